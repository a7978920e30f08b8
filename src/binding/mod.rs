//! The thin N-API layer: converts types and errors, nothing more.

mod args;
mod env;
mod env_end;
mod error;
mod fast;
mod journal;
mod journal_entry;
mod listen_fds;
mod listener;
mod notify;
mod peercred;
mod raw_call;
mod teardown;
mod verbs;
mod watchdog;
mod watchdog_options;
mod watchdog_timer;
