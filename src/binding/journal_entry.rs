//! A received journal entry for JavaScript (`JournalListener.receive()`): the datagram, or the
//! file passed with it, parsed into fields the way `journalctl -o json` shows them.

use std::collections::HashMap;

use napi::bindgen_prelude::{Buffer, Either, Either3};
use napi_derive::napi;

use sd_notify_protocol::journal::parse::parse_entry;
use sd_notify_protocol::listener::Received;
use sd_notify_protocol::NotifyError;

/// One journal entry as journald would store it.
#[napi(object)]
pub struct JournalEntry {
  /// The fields: a string for text values, a Buffer for binary ones, an array for a repeated name.
  #[napi(ts_type = "Record<string, string | Buffer | Array<string | Buffer>>")]
  pub fields: HashMap<String, FieldValue>,
  /// The entry's exact bytes (read from the memfd when it came as one).
  pub raw: Buffer,
  /// Whether it came in a sealed memfd rather than in the datagram itself.
  pub memfd: bool,
  /// Sender's process id, from the kernel (SO_PASSCRED).
  pub pid: i32,
  /// Sender's user id, from the kernel.
  pub uid: u32,
  /// Sender's group id, from the kernel.
  pub gid: u32,
}

/// A field's value(s) in a received entry.
pub type FieldValue = Either3<String, Buffer, Vec<Either<String, Buffer>>>;

/// Text (UTF-8 without control characters other than tab and line ends) as a string, anything
/// else as a Buffer, like `journalctl -o json` shows them.
fn to_value(bytes: Vec<u8>) -> Either<String, Buffer> {
  let text = bytes.iter().all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'));
  match String::from_utf8(bytes) {
    Ok(s) if text => Either::A(s),
    Ok(s) => Either::B(s.into_bytes().into()),
    Err(e) => Either::B(e.into_bytes().into()),
  }
}

/// Whether the entry is in a file passed with an empty datagram (journald's rule): reading it
/// may block (see listener.rs's receive_with_poller).
pub(crate) fn passes_file(r: &Received) -> bool {
  r.data.is_empty() && r.fds.len() == 1
}

/// Reads the entry a datagram carries: its payload, or the file passed with an empty one when
/// journald's rules allow it (a sealed memfd, at most `max` bytes: see protocol::passed_fd).
pub(crate) fn to_entry(r: Received, max: u64) -> sd_notify_protocol::Result<JournalEntry> {
  let memfd = passes_file(&r);
  let mut fds = r.fds.into_iter();
  let raw = if memfd {
    sd_notify_protocol::passed_fd::read_entry(fds.next().ok_or(NotifyError::EmptyMessage)?, r.pid, r.uid, max)?
  } else {
    r.data
  };
  // Any other descriptor is not part of the protocol: closed here, with the iterator.
  drop(fds);
  let mut fields: HashMap<String, FieldValue> = HashMap::new();
  for (name, bytes) in parse_entry(&raw)? {
    let value = to_value(bytes);
    let merged = match fields.remove(&name) {
      None => match value {
        Either::A(s) => Either3::A(s),
        Either::B(b) => Either3::B(b),
      },
      Some(Either3::A(s)) => Either3::C(vec![Either::A(s), value]),
      Some(Either3::B(b)) => Either3::C(vec![Either::B(b), value]),
      Some(Either3::C(mut all)) => {
        all.push(value);
        Either3::C(all)
      }
    };
    fields.insert(name, merged);
  }
  Ok(JournalEntry { fields, raw: raw.into(), memfd, pid: r.pid, uid: r.uid, gid: r.gid })
}
