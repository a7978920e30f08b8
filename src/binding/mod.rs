//! The thin N-API layer: converts types and errors, nothing more.

mod args;
mod env;
mod error;
mod fast;
// (The journal helper is reworking journal.rs: its blocks get their `SAFETY:` lines there.)
#[allow(clippy::undocumented_unsafe_blocks)]
mod journal;
mod listen_fds;
mod listener;
mod notify;
mod peercred;
mod teardown;
mod text;
mod verbs;
mod watchdog;
mod watchdog_options;
