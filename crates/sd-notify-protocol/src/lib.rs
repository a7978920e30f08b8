//! The service-manager protocol in pure Rust: nothing here knows about N-API.

pub mod address;
pub mod assignment;
pub mod barrier;
pub mod booted;
pub mod datagram;
pub mod env;
pub mod error;
pub mod journal;
pub mod listen_fds;
pub mod listener;
pub mod message;
pub mod notify;
pub mod notify_socket;
pub mod passed_fd;
pub mod peercred;
pub mod poller;
pub mod sync;
pub mod value;
pub mod waits;
pub mod watchdog;
pub mod watchdog_env;
pub mod watchdog_timing;

pub use error::{NotifyError, Result};

#[cfg(test)]
mod roundtrip_tests;
