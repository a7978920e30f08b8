//! sd-notify-rs: the systemd notification protocol for Node.js.
//!
//! The protocol is the crate `sd-notify-protocol` (crates/), which knows nothing of N-API;
//! `binding` only converts types and errors between it and JavaScript. Lints (every `unsafe`
//! states its invariant) are the workspace's: see Cargo.toml.

// Unit tests do not run inside Node: they build without the N-API binding.
#[cfg(not(test))]
mod binding;
#[cfg_attr(test, allow(dead_code))]
mod convert;
