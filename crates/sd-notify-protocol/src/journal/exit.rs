//! The end of the process: entries still queued are sent before it goes, synchronously and
//! bounded by a deadline, from a C `atexit` hook, also registered with `at_quick_exit`. Node ends
//! the process with `exit()` after a natural end, `process.exit()` and an uncaught exception
//! alike; Bun ends it with `quick_exit()` in all three cases, which runs only the `at_quick_exit`
//! hooks. Either runs them in the thread that called it while the other threads (the queue's
//! among them) still run; a
//! Worker's end does not end the process, and its entries stay in the process-wide FIFO. The
//! hook is plain Rust (no JavaScript), registered once, when the first entry is queued: a process
//! whose journald keeps up never has one. It cannot keep the process alive: it waits at most the
//! deadline. SIGKILL, abort() and a signal without a handler skip `exit()` and lose the queue.
//!
//! Also here: the one line on stderr that says entries were lost (at exit) or that there is no
//! journal to send to (once per process).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::queue::{drain, EMPTIED, FIFO};
use crate::sync::lock;

/// How long the exit may wait for journald by default: long enough to deliver a burst of 100,000
/// entries with room on a busy machine (how long journald takes for one: the `info-natural` case
/// of __test__/e2e/journal-delivery.test.js, timed), while a journald that does not read at all
/// holds the exit this long, well inside systemd's stop timeout (90 s).
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

static EXIT_TIMEOUT_MS: AtomicU64 = AtomicU64::new(DEFAULT_EXIT_TIMEOUT.as_millis() as u64);
static HOOK: Once = Once::new();
/// Set by the first exit hook that runs: the flush runs once, even if both kinds of hook run (a
/// second run after a deadline would wait another deadline and say the loss twice).
static FLUSHED: AtomicBool = AtomicBool::new(false);
static SAID: AtomicBool = AtomicBool::new(false);
/// The process that registered the hook. A child forked without exec inherits the hook and the
/// FIFO's state (`draining` with no thread to drain, perhaps a lock held at the fork) but none of
/// the queue's threads: its exit must not wait for them.
static ARMED_BY: AtomicI32 = AtomicI32::new(0);

pub fn set_exit_timeout(timeout: Duration) {
  EXIT_TIMEOUT_MS.store(timeout.as_millis().min(u64::MAX as u128) as u64, Ordering::Relaxed);
}

pub fn exit_timeout() -> Duration {
  Duration::from_millis(EXIT_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Registers the exit hook (once per process; cheap after the first call).
pub(super) fn arm() {
  HOOK.call_once(|| {
    ARMED_BY.store(nix::unistd::getpid().as_raw(), Ordering::Relaxed);
    // libc: nix has no atexit wrapper.
    // SAFETY: registers a plain extern "C" function with no arguments; it lives as long as the
    // library, which Node never unloads.
    unsafe { libc::atexit(at_exit) };
    register_at_quick_exit();
  });
}

/// Registers [`at_exit`] with `at_quick_exit`, looked up at run time: glibc has it from 2.18 only
/// (the binaries link against 2.17) and as a wrapper in libc_nonshared around the exported
/// `__cxa_at_quick_exit`; musl exports `at_quick_exit` itself. Without either, Bun's exit loses
/// the queue, as it would with no hook.
fn register_at_quick_exit() {
  type AtQuickExit = unsafe extern "C" fn(extern "C" fn()) -> libc::c_int;
  type CxaAtQuickExit = unsafe extern "C" fn(extern "C" fn(*mut libc::c_void), *mut libc::c_void) -> libc::c_int;
  extern "C" fn at_exit_with_arg(_: *mut libc::c_void) {
    at_exit()
  }
  // SAFETY: dlsym with RTLD_DEFAULT and NUL-terminated names; a non-null result is the C
  // library's function of that name, whose signature is the one transmuted to (C11 7.22.4.3;
  // glibc's stdlib/cxa_at_quick_exit.c). The hook lives as long as the library, never unloaded.
  unsafe {
    let plain = libc::dlsym(libc::RTLD_DEFAULT, c"at_quick_exit".as_ptr());
    if !plain.is_null() {
      std::mem::transmute::<*mut libc::c_void, AtQuickExit>(plain)(at_exit);
      return;
    }
    let cxa = libc::dlsym(libc::RTLD_DEFAULT, c"__cxa_at_quick_exit".as_ptr());
    if !cxa.is_null() {
      std::mem::transmute::<*mut libc::c_void, CxaAtQuickExit>(cxa)(at_exit_with_arg, std::ptr::null_mut());
    }
  }
}

extern "C" fn at_exit() {
  if nix::unistd::getpid().as_raw() != ARMED_BY.load(Ordering::Relaxed) {
    // A forked child: the queue (and its lock) belong to the parent.
    return;
  }
  if FLUSHED.swap(true, Ordering::Relaxed) {
    return;
  }
  // No panic may unwind into the C library's exit().
  let _ = crate::sync::contain("flushing the journal at exit", || {
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
  // SAID first: after the first time, a send that finds no journal reads nothing (it may run on
  // a Worker's thread, where the environment is read only through the binding's reader).
  if SAID.swap(true, Ordering::Relaxed) || stderr_is_journal_stream() {
    return;
  }
  write_stderr(&format!("sd-notify-rs: {reason}; journal entries are not sent (counted in journal.stats())\n"));
}

/// Says `line` on stderr where a person or the journal sees it: a terminal or the journal
/// stream (a file or a pipe of a test harness is left alone).
fn say_where_seen(line: &str) {
  if stderr_is_journal_stream() || nix::unistd::isatty(std::io::stderr()).unwrap_or(false) {
    write_stderr(&format!("sd-notify-rs: {line}\n"));
  }
}

fn write_stderr(text: &str) {
  // Straight to descriptor 2, unbuffered; a closed one makes the write fail, ignored.
  let _ = nix::unistd::write(std::io::stderr(), text.as_bytes());
}

/// Whether stderr is the stream `JOURNAL_STREAM` names (`device:inode`), as systemd sets it.
/// Read by crate::env's rules (a Worker's thread through its reader; at exit, no JavaScript runs
/// any more and the read is safe anywhere, but it goes the same way).
// dev_t and ino_t are narrower than u64 on some 32-bit targets: the casts are needed there.
#[allow(clippy::unnecessary_cast)]
fn stderr_is_journal_stream() -> bool {
  let Some(value) = crate::env::with_var(c"JOURNAL_STREAM", |v| v.to_vec()) else { return false };
  let Some((dev, ino)) = std::str::from_utf8(&value).ok().and_then(|v| v.split_once(':')) else { return false };
  let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
  nix::sys::stat::fstat(std::io::stderr()).is_ok_and(|st| st.st_dev as u64 == dev && st.st_ino as u64 == ino)
}

#[cfg(test)]
mod tests {
  use std::os::unix::net::UnixDatagram;
  use std::sync::Arc;

  use super::*;
  use crate::journal::queue::{self, Limits, Outcome};

  fn entry(i: usize) -> Vec<u8> {
    format!("MESSAGE=e\nX_SEQ={i}\n").into_bytes()
  }

  fn seq(datagram: &[u8]) -> Option<usize> {
    std::str::from_utf8(datagram).ok()?.lines().find_map(|l| l.strip_prefix("X_SEQ=")?.parse().ok())
  }

  /// A child forked without exec while the queue's lock is held (as it may be by the parent's
  /// queue thread): its exit returns at once instead of waiting for a lock no thread will release.
  #[test]
  fn a_forked_childs_exit_does_not_wait_for_the_parents_queue() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    use nix::unistd::ForkResult;
    arm();
    let held = lock(&FIFO);
    // SAFETY: the child calls only async-signal-safe functions before _exit (the hook's first
    // steps are getpid and an atomic load; without the check it would block on the lock, which
    // the parent then sees as a hang).
    match unsafe { nix::unistd::fork() }.unwrap() {
      ForkResult::Child => {
        at_exit();
        // SAFETY: ends the child without running the test harness's exit path.
        unsafe { libc::_exit(0) }
      }
      ForkResult::Parent { child } => {
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
          match waitpid(child, Some(WaitPidFlag::WNOHANG)).unwrap() {
            WaitStatus::StillAlive if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            WaitStatus::StillAlive => {
              let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
              let _ = waitpid(child, None);
              panic!("the forked child's exit hook waited for the parent's queue");
            }
            status => {
              assert_eq!(status, WaitStatus::Exited(child, 0));
              break;
            }
          }
        }
      }
    }
  }

  /// One test for the whole process-wide queue (tests run in parallel threads and share it).
  #[test]
  fn the_exit_flush_sends_everything_a_reader_takes_and_counts_what_a_stalled_one_leaves() {
    let dir = std::env::temp_dir().join(format!("sd-notify-rs-exit-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);

    // A journal that reads: everything queued is sent before the deadline, in order.
    let path = dir.join("reader");
    let _ = std::fs::remove_file(&path);
    let reader = UnixDatagram::bind(&path).unwrap();
    let addr = Arc::new(nix::sys::socket::UnixAddr::new(&path).unwrap());
    let outcomes: Vec<Outcome> = (0..2000).map(|i| queue::submit(&addr, &entry(i))).collect();
    assert!(outcomes.contains(&Outcome::Queued), "the socket queue filled up, entries waited");
    let took = std::thread::spawn(move || {
      let mut seqs = Vec::new();
      let mut buf = vec![0; 4096];
      reader.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
      while let Ok(n) = reader.recv(&mut buf) {
        seqs.extend(seq(&buf[..n]));
      }
      seqs
    });
    assert_eq!(flush_until(Instant::now() + Duration::from_secs(30)), 0);
    assert_eq!(took.join().unwrap(), (0..2000).collect::<Vec<_>>());

    // A journal that never reads: the flush gives up at the deadline and counts the rest.
    let path = dir.join("stalled");
    let _ = std::fs::remove_file(&path);
    let stalled = UnixDatagram::bind(&path).unwrap();
    let addr = Arc::new(nix::sys::socket::UnixAddr::new(&path).unwrap());
    let failed_before = queue::stats().failed;
    for i in 0..500 {
      queue::submit(&addr, &entry(i));
    }
    let started = Instant::now();
    let lost = flush_until(Instant::now() + Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the deadline");
    assert!(lost > 0);
    assert_eq!(queue::stats().failed - failed_before, lost);
    stalled.set_nonblocking(true).unwrap();
    let mut buf = vec![0; 4096];
    let mut arrived = 0;
    while stalled.recv(&mut buf).is_ok() {
      arrived += 1;
    }
    // Nothing that was not counted lost is missing. (The background thread goes on sending as this
    // test reads, where an exiting process would be gone: more may arrive than 500 - lost.)
    assert!(arrived + lost as usize >= 500, "arrived {arrived} + lost {lost} >= 500");
    assert!(lost < 500 && arrived > 0);

    // Leave the queue empty for whoever comes next: the stalled socket goes, the rest fails.
    drop(stalled);
    let _ = std::fs::remove_file(&path);
    assert_eq!(flush_until(Instant::now() + Duration::from_secs(30)), 0);
    queue::set_limits(Limits { ..queue::limits() });
    let _ = std::fs::remove_dir_all(&dir);
  }
}
