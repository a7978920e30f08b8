//! The slow-journal policy. An entry is sent at once, without blocking, when nothing is waiting;
//! when journald's queue is full (or entries already wait) it joins a bounded FIFO that one
//! background thread drains with waiting sends, so the caller never blocks and order is kept.
//! Past the bound an entry is dropped and counted, and the journal itself gets a notice of how
//! many were dropped, where the gap is: nothing is lost silently. The FIFO is process-wide (any
//! thread, any Worker may queue), and what it still holds when the process exits is sent then
//! (see `exit.rs`).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use nix::sys::socket::UnixAddr;

use super::socket::{self, Delivery};
use crate::sync::lock;

/// What the caller learns of its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
  Sent,
  /// Waiting in the FIFO; the background thread sends it in order.
  Queued,
  /// The FIFO was full: not sent, counted in `dropped`.
  Dropped,
  /// No journal here (no socket, nobody bound to it, not a datagram socket, no permission):
  /// not sent, counted in `no_journal`.
  NoJournal,
  /// The send failed otherwise (out of memory or descriptors for a memfd, ...): not sent,
  /// counted in `failed`.
  Failed,
}

/// Counters since the process started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
  /// Entries the kernel accepted for journald.
  pub sent: u64,
  /// Entries waiting in the FIFO now.
  pub queued: u64,
  /// Bytes waiting in the FIFO now (with each entry's bookkeeping, see ENTRY_OVERHEAD).
  pub queued_bytes: u64,
  /// Entries refused because the FIFO was full.
  pub dropped: u64,
  /// Queued entries that could not be sent later (journald gone, a socket error, the exit
  /// deadline).
  pub failed: u64,
  /// Entries not sent because no journal could be reached at their address.
  pub no_journal: u64,
  /// Why the last entry failed or could not reach a journal.
  pub last_error: Option<String>,
}

/// The FIFO's bounds (entries and bytes), changeable at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
  pub entries: usize,
  pub bytes: usize,
}

/// What one queued entry costs besides its bytes: its slot in the deque (an address and a Vec,
/// 32 bytes, up to twice that while the deque grows), the allocator's header and rounding, and
/// the JavaScript strings that built the entry: so the bound in bytes stays close to memory. To
/// check it, compare the RSS growth per queued entry (journald not reading) with 128 + its bytes.
pub const ENTRY_OVERHEAD: usize = 128;

/// The bytes bound is the one that matters: 128 MiB holds about 575,000 typical entries (105
/// bytes + the overhead), five times the 100,000-entry burst that must arrive whole (how fast
/// journald drains one: see DEFAULT_EXIT_TIMEOUT). The entries bound guards against a flood of
/// tiny entries.
pub const DEFAULT_LIMITS: Limits = Limits { entries: 1024 * 1024, bytes: 128 * 1024 * 1024 };

/// The machine-readable field of the notice the journal gets after entries were dropped.
pub const DROPPED_FIELD: &str = "SD_NOTIFY_RS_DROPPED";

/// Entries dropped and not yet reported in the journal.
struct Unreported {
  count: u64,
  addr: Arc<UnixAddr>,
  /// The `SYSLOG_IDENTIFIER=...\n` line of the first dropped entry, so that `journalctl -t`
  /// shows the notice with the entries it is about.
  identifier: Option<Vec<u8>>,
}

pub(super) struct Fifo {
  pub(super) entries: VecDeque<(Arc<UnixAddr>, Vec<u8>)>,
  pub(super) bytes: usize,
  limits: Limits,
  pub(super) draining: bool,
  pub(super) stats: Stats,
  unreported: Option<Unreported>,
}

pub(super) static FIFO: Mutex<Fifo> = Mutex::new(Fifo {
  entries: VecDeque::new(),
  bytes: 0,
  limits: DEFAULT_LIMITS,
  draining: false,
  stats: Stats { sent: 0, queued: 0, queued_bytes: 0, dropped: 0, failed: 0, no_journal: 0, last_error: None },
  unreported: None,
});

/// Signalled whenever the FIFO becomes empty, or the draining thread ends.
pub(super) static EMPTIED: Condvar = Condvar::new();

impl Fifo {
  fn push(&mut self, addr: Arc<UnixAddr>, entry: Vec<u8>) {
    self.bytes += entry.len() + ENTRY_OVERHEAD;
    self.entries.push_back((addr, entry));
  }

  pub(super) fn pop(&mut self) {
    if let Some((_, entry)) = self.entries.pop_front() {
      self.bytes -= entry.len() + ENTRY_OVERHEAD;
    }
  }

  /// Queues the notice of the entries dropped so far, if any (it does not count against the
  /// bounds: it is one entry, and it is what tells the reader about the others).
  fn push_notice(&mut self) {
    if let Some(u) = self.unreported.take() {
      let entry = notice(u.count, u.identifier.as_deref());
      self.push(u.addr, entry);
    }
  }
}

/// The entry that reports `count` dropped entries.
pub fn notice(count: u64, identifier: Option<&[u8]>) -> Vec<u8> {
  let mut entry =
    format!("PRIORITY=4\nMESSAGE={count} journal entries dropped: journald did not keep up\n{DROPPED_FIELD}={count}\n")
      .into_bytes();
  entry.extend_from_slice(identifier.unwrap_or_default());
  entry
}

/// The `SYSLOG_IDENTIFIER=...\n` line of an entry's text part, if it has one.
fn identifier_line(entry: &[u8]) -> Option<Vec<u8>> {
  const NAME: &[u8] = b"SYSLOG_IDENTIFIER=";
  let at = entry.windows(NAME.len()).position(|w| w == NAME).filter(|&i| i == 0 || entry[i - 1] == b'\n')?;
  let end = entry[at..].iter().position(|&b| b == b'\n')?;
  Some(entry[at..=at + end].to_vec())
}

/// Sends `entry` now if it can, else queues or drops it (see the module comment). Never fails:
/// a journal that cannot be reached is an outcome, counted, like a full queue.
pub fn submit(addr: &Arc<UnixAddr>, entry: &[u8]) -> Outcome {
  let mut fifo = lock(&FIFO);
  if fifo.entries.is_empty() {
    match socket::send(addr, entry, false) {
      Ok(Delivery::Sent) => {
        fifo.stats.sent += 1;
        return Outcome::Sent;
      }
      Ok(Delivery::Full) => {}
      Ok(Delivery::NoJournal(errno)) => {
        fifo.stats.no_journal += 1;
        let reason = format!("no journal at {}: {}", socket::describe(addr), socket::errno_text(errno));
        fifo.stats.last_error = Some(reason.clone());
        drop(fifo);
        super::exit::say_once(&reason);
        return Outcome::NoJournal;
      }
      Err(e) => {
        fifo.stats.failed += 1;
        let reason = format!("a journal entry could not be sent: {e}");
        fifo.stats.last_error = Some(reason.clone());
        drop(fifo);
        super::exit::say_once(&reason);
        return Outcome::Failed;
      }
    }
  }
  if fifo.entries.len() >= fifo.limits.entries || fifo.bytes + entry.len() + ENTRY_OVERHEAD > fifo.limits.bytes {
    fifo.stats.dropped += 1;
    match &mut fifo.unreported {
      Some(u) => u.count += 1,
      None => fifo.unreported = Some(Unreported { count: 1, addr: addr.clone(), identifier: identifier_line(entry) }),
    }
    super::exit::arm();
    // With nothing queued (an `entries: 0` bound, say) no thread runs to deliver the notice:
    // one starts, pushes it and sends it with waiting sends.
    start_drain(&mut fifo);
    return Outcome::Dropped;
  }
  // The gap in the journal is marked where it is: the notice goes just before this entry.
  fifo.push_notice();
  // Copied only now: an entry sent at once is never copied.
  fifo.push(addr.clone(), entry.to_vec());
  super::exit::arm();
  start_drain(&mut fifo);
  Outcome::Queued
}

/// Starts the background thread unless it runs.
fn start_drain(fifo: &mut Fifo) {
  if !fifo.draining {
    fifo.draining = true;
    if let Err(e) = crate::sync::small_thread().name("sd-notify-journal".into()).spawn(|| drain(None)) {
      // No thread: the entries stay queued and the next submit (or the exit) tries again.
      fifo.draining = false;
      fifo.stats.last_error = Some(format!("could not start the journal thread: {e}"));
    }
  }
}

/// Sends the FIFO's head with waiting sends until the FIFO is empty (then the notice of what
/// was dropped, if anything was) or `until` passed. The background thread runs it with no
/// deadline and ends with it (no thread lingers while journald keeps up); the exit runs it
/// when no thread does. Returns whether the FIFO is empty.
pub(super) fn drain(until: Option<Instant>) -> bool {
  loop {
    let head = {
      let mut fifo = lock(&FIFO);
      if fifo.entries.is_empty() {
        fifo.push_notice();
      }
      match fifo.entries.front() {
        Some((addr, entry)) if until.is_none_or(|t| Instant::now() < t) => (addr.clone(), entry.clone()),
        front => {
          let empty = front.is_none();
          fifo.draining = false;
          EMPTIED.notify_all();
          return empty;
        }
      }
    };
    // A panic would end this thread with entries queued: it counts as a failed send instead.
    let outcome =
      crate::sync::contain("sending a queued journal entry", || socket::send(&head.0, &head.1, true)).and_then(|sent| sent);
    let mut fifo = lock(&FIFO);
    let failure = match outcome {
      // Still full after a wait slice: keep the head and wait again.
      Ok(Delivery::Full) => continue,
      Ok(Delivery::Sent) => {
        fifo.stats.sent += 1;
        None
      }
      Ok(Delivery::NoJournal(errno)) => Some(format!("journald stopped listening: {}", socket::errno_text(errno))),
      Err(e) => Some(e.to_string()),
    };
    if let Some(reason) = failure {
      fifo.stats.failed += 1;
      fifo.stats.last_error = Some(reason);
    }
    fifo.pop();
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

pub fn limits() -> Limits {
  lock(&FIFO).limits
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_notice_says_how_many_and_keeps_the_identifier() {
    let entry = notice(12, Some(b"SYSLOG_IDENTIFIER=server\n"));
    let text = String::from_utf8(entry).unwrap();
    assert!(text.contains("MESSAGE=12 journal entries dropped: journald did not keep up\n"));
    assert!(text.contains("SD_NOTIFY_RS_DROPPED=12\n"));
    assert!(text.ends_with("SYSLOG_IDENTIFIER=server\n"));
    assert!(crate::journal::entry::check_lines(text.as_bytes(), text.lines().map(|l| l.find('=').unwrap()).sum()).is_ok());
  }

  #[test]
  fn the_identifier_line_is_found_only_at_a_line_start() {
    assert_eq!(identifier_line(b"MESSAGE=a\nSYSLOG_IDENTIFIER=x\nA=b\n").as_deref(), Some(&b"SYSLOG_IDENTIFIER=x\n"[..]));
    assert_eq!(identifier_line(b"MESSAGE=SYSLOG_IDENTIFIER=x\n"), None);
    assert_eq!(identifier_line(b"SYSLOG_IDENTIFIER=first\n").as_deref(), Some(&b"SYSLOG_IDENTIFIER=first\n"[..]));
  }
}
