//! The journal for JavaScript: the native half of `journal.send()` (lib/journal.js builds the
//! fields), its queue's limits and flush. The entries `JournalListener` receives: journal_entry.rs.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use napi::bindgen_prelude::{Array, FromNapiValue, Object, Uint8ArraySlice, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

use super::error::{guard, invalid_value, napi_error, settle, settle_on_thread, IntoJs, Result, Settle};
use super::raw_call::{RawCall, RawValue};
use nix::sys::socket::UnixAddr;
use sd_notify_protocol::address::{self, NotifyAddress};

use crate::convert::usec_from_ms;
use sd_notify_protocol::journal::entry::{check_lines, Entry};
use sd_notify_protocol::journal::exit;
use sd_notify_protocol::journal::queue::{self, Limits, Outcome};
use sd_notify_protocol::journal::JOURNAL_SOCKET;
use sd_notify_protocol::sync::lock;
use sd_notify_protocol::NotifyError;

/// The default journal's address, and the last other address used (parsed once each).
static DEFAULT_ADDRESS: OnceLock<std::result::Result<Arc<UnixAddr>, NotifyError>> = OnceLock::new();
static LAST_ADDRESS: Mutex<Option<(String, Arc<UnixAddr>)>> = Mutex::new(None);

fn parse_address(path: &str) -> sd_notify_protocol::Result<Arc<UnixAddr>> {
  match address::parse(path.as_bytes())? {
    NotifyAddress::Unix(addr) => Ok(Arc::new(addr)),
    NotifyAddress::Vsock { .. } => {
      Err(NotifyError::InvalidAddress { address: path.into(), reason: "a journal socket is /path or @abstract".into() })
    }
  }
}

fn journal_address(socket: Option<&str>) -> sd_notify_protocol::Result<Arc<UnixAddr>> {
  let Some(path) = socket else { return DEFAULT_ADDRESS.get_or_init(|| parse_address(JOURNAL_SOCKET)).clone() };
  let mut last = lock(&LAST_ADDRESS);
  match &*last {
    Some((seen, addr)) if seen == path => Ok(addr.clone()),
    _ => {
      let addr = parse_address(path)?;
      *last = Some((path.to_owned(), addr.clone()));
      Ok(addr)
    }
  }
}

/// Sends one entry: `text` holds the plain fields as `KEY=value\n` lines whose names hold
/// `names` bytes; then, when needed, `socket` (`null`: journald's) and `binary`, the other fields
/// as `[name, value, ...]` (values: strings or Uint8Arrays). lib/journal.js builds them and
/// leaves out the last two when it has neither, which spares two N-API type checks; everything
/// is checked again here.
/// Returns `undefined` when sent, else a [`Code`]: queued, dropped (queue full), no journal here,
/// split (nothing sent, because a name in `text` held `=` or a line break: lib/journal.js then
/// builds the entry again, checking each name, for the precise error), failed (counted).
pub(super) fn journal_send(call: RawCall<'_>, [text, names, socket, binary]: [Option<RawValue<'_>>; 4]) -> Result<Option<u32>> {
  let address = match call.present(socket) {
    None => journal_address(None).js()?,
    Some(raw) => call.with_text(raw, "socket", |path| journal_address(Some(path)).js())?,
  };
  let text = text.ok_or_else(|| NotifyError::value("entry", "it is missing")).js()?;
  let names =
    call.uint32(names).ok_or_else(|| NotifyError::number("names", "it must be the byte count of the field names")).js()? as usize;
  let binary = call.present(binary).map(|raw| call.array(raw, "binary")).transpose()?;
  let outcome = call.with_bytes(text, "entry", |lines| {
    // A split name sends nothing: lib/journal.js builds the entry again for the precise error.
    let Some(binary) = &binary else {
      // The usual entry, text lines only: checked and sent as read.
      if lines.is_empty() {
        return Err(NotifyError::EmptyMessage).js();
      }
      return match check_lines(lines, names) {
        Ok(_) => Ok(Some(queue::submit(&address, lines))),
        Err(NotifyError::FieldNamesSplit) => Ok(None),
        Err(e) => Err(e).js(),
      };
    };
    let mut entry = match Entry::from_lines(lines, names) {
      Ok(entry) => entry,
      Err(NotifyError::FieldNamesSplit) => return Ok(None),
      Err(e) => return Err(e).js(),
    };
    push_binary(&mut entry, binary)?;
    Ok(Some(queue::submit(&address, &entry.into_bytes().js()?)))
  })?;
  Ok(match outcome {
    Some(Outcome::Sent) => None,
    Some(Outcome::Queued) => Some(Code::Queued as u32),
    Some(Outcome::Dropped) => Some(Code::Dropped as u32),
    Some(Outcome::NoJournal) => Some(Code::NoJournal as u32),
    None => Some(Code::Split as u32),
    Some(Outcome::Failed) => Some(Code::Failed as u32),
  })
}

/// What `journalSend` returns: the one declaration of its codes. lib/journal.js learns their
/// names from `journalOutcomes()` (CODE_NAMES, by code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Code {
  /// Returned as `undefined` (cheaper than a number), listed for the names.
  Sent = 0,
  Queued = 1,
  Dropped = 2,
  NoJournal = 3,
  Split = 4,
  Failed = 5,
}

/// Each code's name for JavaScript, at its code's index.
const CODE_NAMES: [(Code, &str); 6] = [
  (Code::Sent, "sent"),
  (Code::Queued, "queued"),
  (Code::Dropped, "dropped"),
  (Code::NoJournal, "no-journal"),
  (Code::Split, "split"),
  (Code::Failed, "failed"),
];

// Checked when compiling: each name sits at its code's index.
const _: () = {
  let mut i = 0;
  while i < CODE_NAMES.len() {
    assert!(CODE_NAMES[i].0 as usize == i, "CODE_NAMES out of order");
    i += 1;
  }
};

/// The names of `journalSend`'s codes, by code.
#[napi(skip_typescript)]
pub fn journal_outcomes() -> Vec<&'static str> {
  CODE_NAMES.iter().map(|&(_, name)| name).collect()
}

/// Adds the `[name, value, ...]` pairs of `binary` to `entry` (values: strings, or the bytes of
/// a Uint8Array or Buffer). Each element's type is asked first, so a refusal names what was
/// expected and runs no code of the value's (napi-rs's own conversion errors describe the value).
fn push_binary(entry: &mut Entry, binary: &Array) -> Result<()> {
  for i in (0..binary.len().saturating_sub(1)).step_by(2) {
    let name = match element(binary, i, "name")? {
      (ValueType::String, name) => String::from_unknown(name).map_err(|e| invalid_value("name", e))?,
      _ => return Err(NotifyError::value("name", "it must be a string")).js(),
    };
    let refused = || NotifyError::value(&name, "a journal value must be a string or a Uint8Array/Buffer");
    match element(binary, i + 1, &name)? {
      (ValueType::String, text) => entry.push(&name, String::from_unknown(text).map_err(|e| invalid_value(&name, e))?.as_bytes()),
      (ValueType::Object, bytes) => entry.push(&name, &Uint8ArraySlice::from_unknown(bytes).map_err(|_| refused()).js()?),
      _ => return Err(refused()).js(),
    }
    .js()?;
  }
  Ok(())
}

/// Element `i` of `array` and its type (`key` names it in errors).
fn element<'a>(array: &Array<'a>, i: u32, key: &str) -> Result<(ValueType, Unknown<'a>)> {
  let value = array.get::<Unknown>(i).map_err(|e| invalid_value(key, e))?;
  let value = value.ok_or_else(|| NotifyError::value(key, "it is missing")).js()?;
  Ok((value.get_type().map_err(|e| invalid_value(key, e))?, value))
}

/// The journal queue's counters: `[sent, queued, queuedBytes, dropped, failed, lastError,
/// noJournal]`.
#[napi(skip_typescript)]
#[allow(clippy::type_complexity)]
pub fn journal_stats() -> Result<(f64, f64, f64, f64, f64, Option<String>, f64)> {
  guard("journalStats", || {
    let s = queue::stats();
    Ok((
      s.sent as f64,
      s.queued as f64,
      s.queued_bytes as f64,
      s.dropped as f64,
      s.failed as f64,
      s.last_error,
      s.no_journal as f64,
    ))
  })
}

/// Sets the queue's bounds (at most `entries` entries and `bytes` bytes wait for journald) and
/// how long the exit may wait for journald; `null` leaves one as it is. lib/journal.js checks
/// the numbers. Returns `[entries, bytes, exitTimeoutMs]` as they are now.
#[napi(skip_typescript)]
pub fn journal_set_limits(entries: Option<u32>, bytes: Option<f64>, exit_timeout_ms: Option<f64>) -> Result<(f64, f64, f64)> {
  guard("journalSetLimits", || {
    let now = queue::limits();
    queue::set_limits(Limits {
      entries: entries.map_or(now.entries, |n| n as usize),
      bytes: bytes.map_or(now.bytes, |b| b.clamp(0.0, usize::MAX as f64) as usize),
    });
    if let Some(ms) = exit_timeout_ms {
      exit::set_exit_timeout(Duration::from_micros(usec_from_ms("exitTimeoutMs", ms).js()?));
    }
    let limits = queue::limits();
    Ok((limits.entries as f64, limits.bytes as f64, exit::exit_timeout().as_millis() as f64))
  })
}

/// Resolves `true` once nothing waits for journald, `false` after `timeoutMs`. Waits off the
/// event loop.
#[napi(skip_typescript)]
pub fn journal_flush(env: &Env, timeout_ms: f64) -> Result<Object<'_>> {
  guard("journalFlush", || {
    let (deferred, promise) = env.create_deferred::<bool, Settle<bool>>().map_err(napi_error)?;
    match usec_from_ms("timeoutMs", timeout_ms) {
      Err(e) => settle(deferred, Err(e)),
      Ok(usec) => settle_on_thread(deferred, "sd-notify-journal-flush", move || Ok(queue::flush(Duration::from_micros(usec)))),
    }
    Ok(promise)
  })
}
