//! The journal's native protocol (systemd's JOURNAL_NATIVE_PROTOCOL): one entry per datagram
//! to `/run/systemd/journal/socket`, an entry too large for a datagram in a sealed memfd.
//!
//! `field` knows the names journald accepts, `entry` encodes an entry, `parse` decodes one (for
//! the stand-in receiver), `socket` sends without blocking and `queue` holds what journald could
//! not take yet.

pub mod entry;
pub mod exit;
pub mod field;
pub mod parse;
pub mod queue;
pub mod socket;

/// Where journald listens for native-protocol entries.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
