//! The end of the process: entries still queued are sent before it goes, synchronously and
//! bounded by a deadline, from a C `atexit` hook. Node ends the process with `exit()` after a
//! natural end, `process.exit()` and an uncaught exception alike, and `exit()` runs these hooks
//! in the thread that called it while the other threads (the queue's among them) still run; a
//! Worker's end does not end the process, and its entries stay in the process-wide FIFO. The
//! hook is plain Rust (no JavaScript), registered once, when the first entry is queued: a process
//! whose journald keeps up never has one. It cannot keep the process alive: it waits at most the
//! deadline. SIGKILL, abort() and a signal without a handler skip `exit()` and lose the queue.
//!
//! Also here: the one line on stderr that says entries were lost (at exit) or that there is no
//! journal to send to (once per process).

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::queue::{drain, EMPTIED, FIFO};
use crate::protocol::sync::lock;

/// How long the exit may wait for journald by default. journald here takes 25,000-40,000
/// entries a second from one sender (100,000 queued at exit: 2.3-3.9 s, measured under the
/// testbed), so this delivers a burst of 100,000 with room on a busy machine; a journald that
/// does not read at all holds the exit this long, well inside systemd's stop timeout (90 s).
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

static EXIT_TIMEOUT_MS: AtomicU64 = AtomicU64::new(DEFAULT_EXIT_TIMEOUT.as_millis() as u64);
static HOOK: Once = Once::new();
static SAID: AtomicBool = AtomicBool::new(false);

pub fn set_exit_timeout(timeout: Duration) {
  EXIT_TIMEOUT_MS.store(timeout.as_millis().min(u64::MAX as u128) as u64, Ordering::Relaxed);
}

pub fn exit_timeout() -> Duration {
  Duration::from_millis(EXIT_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Registers the exit hook (once per process; cheap after the first call).
pub(super) fn arm() {
  HOOK.call_once(|| {
    // SAFETY: registers a plain extern "C" function with no arguments; it lives as long as the
    // library, which Node never unloads.
    unsafe { libc::atexit(at_exit) };
  });
}

extern "C" fn at_exit() {
  // No panic may unwind into the C library's exit().
  let _ = crate::protocol::sync::contain("flushing the journal at exit", || {
    let lost = flush_until(Instant::now() + exit_timeout());
    if lost > 0 {
      say_where_seen(&format!(
        "{lost} journal entries were lost at exit: journald did not take them within {} ms (Journal.setQueueLimits({{ exitTimeoutMs }}))",
        exit_timeout().as_millis()
      ));
    }
  });
}

/// Sends what is queued until `deadline`: waits for the queue's thread when it runs, else sends
/// in this thread. Returns how many entries are left (counted as failed).
pub fn flush_until(deadline: Instant) -> u64 {
  let mut fifo = lock(&FIFO);
  loop {
    if fifo.entries.is_empty() && !fifo.draining {
      return 0;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
      let lost = fifo.entries.len() as u64;
      fifo.stats.failed += lost;
      fifo.stats.last_error = Some(format!("{lost} entries still queued at the exit deadline"));
      return lost;
    }
    if fifo.draining {
      fifo = EMPTIED.wait_timeout(fifo, left).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
    } else {
      // No thread (it could not start): this one sends.
      fifo.draining = true;
      drop(fifo);
      drain(Some(deadline));
      fifo = lock(&FIFO);
    }
  }
}

/// Says `reason` on stderr, the first time anything is said this way in this process, unless
/// stderr is the journal stream itself (the line would go where the entries could not).
pub(super) fn say_once(reason: &str) {
  if stderr_is_journal_stream() || SAID.swap(true, Ordering::Relaxed) {
    return;
  }
  write_stderr(&format!("sd-notify-rs: {reason}; journal entries are not sent (counted in journal.stats())\n"));
}

/// Says `line` on stderr where a person or the journal sees it: a terminal or the journal
/// stream (a file or a pipe of a test harness is left alone).
fn say_where_seen(line: &str) {
  // SAFETY: isatty only reads the descriptor's state.
  if stderr_is_journal_stream() || unsafe { libc::isatty(2) } == 1 {
    write_stderr(&format!("sd-notify-rs: {line}\n"));
  }
}

fn write_stderr(text: &str) {
  // SAFETY: descriptor 2 is borrowed for one write; a closed one makes the write fail, ignored.
  let fd = unsafe { BorrowedFd::borrow_raw(2) };
  let _ = nix::unistd::write(fd, text.as_bytes());
}

/// Whether stderr is the stream `JOURNAL_STREAM` names (`device:inode`), as systemd sets it.
fn stderr_is_journal_stream() -> bool {
  let Some(value) = std::env::var_os("JOURNAL_STREAM") else { return false };
  let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else { return false };
  let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
  // SAFETY: descriptor 2 is borrowed for one fstat.
  let fd = unsafe { BorrowedFd::borrow_raw(2) };
  nix::sys::stat::fstat(fd).is_ok_and(|st| st.st_dev as u64 == dev && st.st_ino as u64 == ino)
}
