//! The slow-journal policy. An entry is sent at once, without blocking, when nothing is waiting;
//! when journald's queue is full (or entries already wait) it joins a bounded FIFO that one
//! background thread drains with waiting sends, so the caller never blocks and order is kept.
//! Past the bound an entry is dropped and counted: nothing is lost silently.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::UnixAddr;

use super::socket::{self, Delivery};
use crate::error::Result;
use crate::sync::lock;

/// What the caller learns of its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
  Sent,
  /// Waiting in the FIFO; the background thread sends it in order.
  Queued,
  /// The FIFO was full: not sent, counted in `dropped`.
  Dropped,
  /// No journal here: not sent.
  NoJournal,
}

/// Counters since the process started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
  /// Entries the kernel accepted for journald.
  pub sent: u64,
  /// Entries waiting in the FIFO now.
  pub queued: u64,
  /// Bytes waiting in the FIFO now.
  pub queued_bytes: u64,
  /// Entries refused because the FIFO was full.
  pub dropped: u64,
  /// Queued entries that could not be sent later (journald gone for good, a socket error).
  pub failed: u64,
  /// Why the last queued entry failed.
  pub last_error: Option<String>,
}

/// The FIFO's bounds (entries and bytes), changeable at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
  pub entries: usize,
  pub bytes: usize,
}

/// Room for bursts far beyond journald's own rate limits, bounded in memory.
pub const DEFAULT_LIMITS: Limits = Limits { entries: 65_536, bytes: 64 * 1024 * 1024 };

struct Fifo {
  entries: VecDeque<(Arc<UnixAddr>, Vec<u8>)>,
  bytes: usize,
  limits: Limits,
  draining: bool,
  stats: Stats,
}

static FIFO: Mutex<Fifo> = Mutex::new(Fifo {
  entries: VecDeque::new(),
  bytes: 0,
  limits: DEFAULT_LIMITS,
  draining: false,
  stats: Stats { sent: 0, queued: 0, queued_bytes: 0, dropped: 0, failed: 0, last_error: None },
});

/// Signalled whenever the FIFO becomes empty.
static EMPTIED: Condvar = Condvar::new();

/// Sends `entry` now if it can, else queues or drops it (see the module comment).
pub fn submit(addr: &Arc<UnixAddr>, entry: &[u8]) -> Result<Outcome> {
  let mut fifo = lock(&FIFO);
  if fifo.entries.is_empty() {
    match socket::send(addr, entry, false)? {
      Delivery::Sent => {
        fifo.stats.sent += 1;
        return Ok(Outcome::Sent);
      }
      Delivery::NoJournal => return Ok(Outcome::NoJournal),
      Delivery::Full => {}
    }
  }
  if fifo.entries.len() >= fifo.limits.entries || fifo.bytes + entry.len() > fifo.limits.bytes {
    fifo.stats.dropped += 1;
    return Ok(Outcome::Dropped);
  }
  fifo.bytes += entry.len();
  // Copied only now: an entry sent at once is never copied.
  fifo.entries.push_back((addr.clone(), entry.to_vec()));
  if !fifo.draining {
    fifo.draining = true;
    if let Err(e) = crate::sync::small_thread().name("sd-notify-journal".into()).spawn(drain) {
      // No thread: the entries stay queued and the next submit tries again.
      fifo.draining = false;
      fifo.stats.last_error = Some(format!("could not start the journal thread: {e}"));
    }
  }
  Ok(Outcome::Queued)
}

/// The background thread: sends the FIFO's head with waiting sends until the FIFO is empty,
/// then ends (no thread lingers while journald keeps up).
fn drain() {
  loop {
    let head = {
      let mut fifo = lock(&FIFO);
      match fifo.entries.front() {
        Some((addr, entry)) => (addr.clone(), entry.clone()),
        None => {
          fifo.draining = false;
          EMPTIED.notify_all();
          return;
        }
      }
    };
    // A panic would end this thread with entries queued: it counts as a failed send instead.
    let outcome =
      crate::sync::contain("sending a queued journal entry", || socket::send(&head.0, &head.1, true)).and_then(|sent| sent);
    let mut fifo = lock(&FIFO);
    match outcome {
      // Still full after a wait slice: keep the head and wait again.
      Ok(Delivery::Full) => continue,
      Ok(Delivery::Sent) => fifo.stats.sent += 1,
      Ok(Delivery::NoJournal) => {
        fifo.stats.failed += 1;
        fifo.stats.last_error = Some("journald stopped listening".into());
      }
      Err(e) => {
        fifo.stats.failed += 1;
        fifo.stats.last_error = Some(e.to_string());
      }
    }
    if let Some((_, entry)) = fifo.entries.pop_front() {
      fifo.bytes -= entry.len();
    }
  }
}

/// Blocks until the FIFO is empty (`true`) or `timeout` passed (`false`).
pub fn flush(timeout: Duration) -> bool {
  let deadline = Instant::now() + timeout;
  let mut fifo = lock(&FIFO);
  while !fifo.entries.is_empty() {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
      return false;
    }
    fifo = EMPTIED.wait_timeout(fifo, left).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
  }
  true
}

pub fn stats() -> Stats {
  let fifo = lock(&FIFO);
  Stats { queued: fifo.entries.len() as u64, queued_bytes: fifo.bytes as u64, ..fifo.stats.clone() }
}

pub fn set_limits(limits: Limits) {
  lock(&FIFO).limits = limits;
}
