#![deny(clippy::all)]
// Every `unsafe` states its invariant in a `// SAFETY:` line, also inside an `unsafe fn`.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
//! sd-notify-rs: the systemd notification protocol for Node.js.
//!
//! `protocol` is the pure-Rust core; `binding` only converts types and errors for N-API.

// The core is private, so the compiler reports dead code in it; the `fuzzing` feature exposes it to
// the fuzz targets in fuzz/.
#[cfg(feature = "fuzzing")]
pub mod protocol;
// (Unit tests build without the binding, so there the binding's callers are missing.)
#[cfg(not(feature = "fuzzing"))]
#[cfg_attr(test, allow(dead_code, unused_imports))]
mod protocol;

// Neither unit tests nor fuzz targets run inside Node: they build without the N-API binding.
#[cfg(not(any(test, feature = "fuzzing")))]
mod binding;
#[cfg_attr(any(test, feature = "fuzzing"), allow(dead_code))]
mod convert;
