#![deny(clippy::all)]
//! sd-notify-rs: the systemd notification protocol for Node.js.
//!
//! `protocol` is the pure-Rust core; `binding` only converts types and errors for N-API.

pub mod protocol;

#[cfg(not(test))]
mod binding;
