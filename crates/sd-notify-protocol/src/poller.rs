//! One process-wide thread that waits on every pending descriptor wait (a listener's
//! `receive()`, a `barrier()`) with a single poll(2), instead of one thread per wait: 3,000
//! pending waits cost one thread, not 3,000.
//!
//! A wait is a [`Wait`] with an optional deadline. The thread calls it back when its descriptor
//! is ready, when its deadline passes, or never if it is cancelled first ([`cancel`] calls it back
//! on the caller's thread instead). Callbacks must not block: they read what is ready and settle.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};

use super::sync::{lock, small_thread};

/// Why a wait is called back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
  /// The descriptor reported one of the events (or POLLHUP/POLLERR/POLLNVAL).
  Ready,
  /// The deadline passed first.
  Timeout,
  /// Cancelled: its owner closed, or its JavaScript environment ended.
  Cancel,
  /// It could not be added: no poller thread could be started.
  Failed(Errno),
}

/// What a wait wants after a `Ready` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
  /// Settled: forget it.
  Done,
  /// Nothing for it after all (another wait took the datagram): keep waiting.
  Again,
}

pub trait Wait: Send {
  fn fd(&self) -> RawFd;
  /// poll(2) events; POLLHUP and POLLERR always count.
  fn events(&self) -> PollFlags;
  /// Must settle on anything but `Ready` (the wait is then forgotten whatever it returns).
  fn wake(&mut self, why: Wake) -> Next;
  /// Whether a wait that answered `Again` is still wanted; checked under the poller's lock, so
  /// an owner that marks itself closed before calling [`cancel`] never loses a wait between them.
  fn wanted(&self) -> bool {
    true
  }
  /// The owner tag [`cancel`] matches (a listener, a JavaScript environment, ...).
  fn owners(&self) -> [u64; 2];
}

struct Entry {
  id: u64,
  deadline: Option<Instant>,
  wait: Box<dyn Wait>,
}

struct Poller {
  entries: Mutex<(u64, Vec<Entry>)>,
  /// Written to make the thread look at the entries again.
  wakeup: EventFd,
}

/// The poller; its thread is started once, by [`poller`], and runs for the process's life.
static POLLER: OnceLock<Poller> = OnceLock::new();
static THREAD: Started = Started::new();

/// Whether something started: a start that failed is not remembered, so a passing shortage
/// (EMFILE for the eventfd, EAGAIN for the thread) fails only the waits made during it, and the
/// next wait tries again.
struct Started {
  done: std::sync::atomic::AtomicBool,
  starting: Mutex<()>,
}

impl Started {
  const fn new() -> Self {
    Started { done: std::sync::atomic::AtomicBool::new(false), starting: Mutex::new(()) }
  }

  /// Runs `start` unless a call of it succeeded before (one at a time; once started, one atomic
  /// load).
  fn ensure(&self, start: impl FnOnce() -> std::result::Result<(), Errno>) -> std::result::Result<(), Errno> {
    use std::sync::atomic::Ordering;
    if self.done.load(Ordering::Acquire) {
      return Ok(());
    }
    let _one_at_a_time = lock(&self.starting);
    if !self.done.load(Ordering::Acquire) {
      start()?;
      self.done.store(true, Ordering::Release);
    }
    Ok(())
  }
}

fn poller() -> std::result::Result<&'static Poller, Errno> {
  let mut made = None;
  THREAD.ensure(|| {
    let p = match POLLER.get() {
      Some(p) => p,
      None => {
        let wakeup = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        POLLER.get_or_init(|| Poller { entries: Mutex::new((0, Vec::new())), wakeup })
      }
    };
    small_thread()
      .name("sd-notify-poller".into())
      .spawn(move || run(p))
      .map_err(|e| e.raw_os_error().map_or(Errno::EAGAIN, Errno::from_raw))?;
    made = Some(p);
    Ok(())
  })?;
  made.or_else(|| POLLER.get()).ok_or(Errno::EAGAIN)
}

impl Poller {
  fn kick(&self) {
    // A full counter (EAGAIN) already means "look".
    let _ = self.wakeup.write(1);
  }
}

/// Adds `wait` (with `deadline`, if any). On failure (no poller thread could be started) the wait
/// is handed back so that the caller can settle it.
pub fn add(wait: Box<dyn Wait>, deadline: Option<Instant>) -> std::result::Result<(), (Errno, Box<dyn Wait>)> {
  let p = match poller() {
    Ok(p) => p,
    Err(e) => return Err((e, wait)),
  };
  let mut entries = lock(&p.entries);
  // Checked under the lock, like a wait put back: an owner closed before (or while) this was
  // added is settled now, not left polling a closed descriptor.
  if !wait.wanted() {
    drop(entries);
    let mut wait = wait;
    wait.wake(Wake::Cancel);
    return Ok(());
  }
  entries.0 += 1;
  let id = entries.0;
  entries.1.push(Entry { id, deadline, wait });
  drop(entries);
  p.kick();
  Ok(())
}

/// Calls back (with `Wake::Cancel`, on this thread) and forgets every wait one of whose owner
/// tags is `owner`. Returns how many.
pub fn cancel(owner: u64) -> usize {
  let Some(p) = POLLER.get() else { return 0 };
  let mut taken = Vec::new();
  {
    let mut entries = lock(&p.entries);
    let mut i = 0;
    while i < entries.1.len() {
      if entries.1[i].wait.owners().contains(&owner) {
        taken.push(entries.1.swap_remove(i));
      } else {
        i += 1;
      }
    }
  }
  p.kick();
  let n = taken.len();
  for mut e in taken {
    e.wait.wake(Wake::Cancel);
  }
  n
}

/// Whether poll(2) reported anything on `fd` (bits nix does not know of count too).
fn fired(fd: &PollFd<'_>) -> bool {
  fd.any().unwrap_or(true)
}

/// The thread's body.
fn run(p: &'static Poller) {
  let mut fds: Vec<PollFd<'_>> = Vec::new();
  // Each wait's id and the index of its descriptor in `fds`: waits on one descriptor share one
  // pollfd (poll(2) refuses more pollfds than RLIMIT_NOFILE, and 3,000 receives on one listener
  // are one descriptor). No index: a closed listener's -1, which poll(2) would skip anyway.
  let mut ids: Vec<(u64, Option<usize>)> = Vec::new();
  let mut index: HashMap<RawFd, usize> = HashMap::new();
  loop {
    fds.clear();
    ids.clear();
    index.clear();
    fds.push(PollFd::new(p.wakeup.as_fd(), PollFlags::POLLIN));
    let mut next_deadline: Option<Instant> = None;
    {
      let entries = lock(&p.entries);
      for e in &entries.1 {
        let fd = e.wait.fd();
        let i = (fd >= 0).then(|| {
          *index.entry(fd).or_insert_with(|| {
            // SAFETY: not -1 (checked); borrowed only for this round's poll(2), which neither
            // reads, writes nor closes it. Its owner may close it during that call (a listener's
            // close(), a cancelled barrier): only after `cancel` took its waits out of the entries
            // and kicked this thread, so the number is polled at most this once more, and never
            // acted on (a wait woken that way is gone, or only retries a non-blocking read).
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            fds.push(PollFd::new(borrowed, PollFlags::empty()));
            fds.len() - 1
          })
        });
        if let Some(i) = i {
          let events = fds[i].events() | e.wait.events();
          fds[i].set_events(events);
        }
        ids.push((e.id, i));
        if let Some(d) = e.deadline {
          next_deadline = Some(next_deadline.map_or(d, |n| n.min(d)));
        }
      }
    }
    let timeout = next_deadline.map_or(PollTimeout::NONE, |d| {
      // Rounded up: waking a millisecond early would only poll again.
      let left = d.saturating_duration_since(Instant::now());
      PollTimeout::try_from(left.as_micros().div_ceil(1000)).unwrap_or(PollTimeout::MAX)
    });
    let n = match nix::poll::poll(&mut fds, timeout) {
      Ok(n) => n,
      Err(Errno::EINTR) => -1,
      Err(_) => {
        // ENOMEM, or EINVAL past RLIMIT_NOFILE: nothing is known to be ready, but deadlines
        // still pass below; breathe rather than spin.
        std::thread::sleep(std::time::Duration::from_millis(10));
        -1
      }
    };
    if n > 0 && fired(&fds[0]) {
      // Resets the counter.
      let _ = p.wakeup.read();
    }
    let ready: HashSet<u64> = ids.iter().filter(|(_, i)| n > 0 && i.is_some_and(|i| fired(&fds[i]))).map(|(id, _)| *id).collect();
    let now = Instant::now();
    let due: Vec<(Entry, Wake)> = {
      let mut entries = lock(&p.entries);
      let mut due = Vec::new();
      let mut i = 0;
      while i < entries.1.len() {
        let e = &entries.1[i];
        let why = if ready.contains(&e.id) {
          Some(Wake::Ready)
        } else if e.deadline.is_some_and(|d| d <= now) {
          Some(Wake::Timeout)
        } else {
          None
        };
        match why {
          Some(why) => due.push((entries.1.swap_remove(i), why)),
          None => i += 1,
        }
      }
      due
    };
    // Descriptors found empty this round: the other waits on the same one (3,000 receives of
    // one listener) need not each try a read that would only find it empty too.
    let mut drained = HashSet::new();
    for (mut e, why) in due {
      let next = if why == Wake::Ready && drained.contains(&e.wait.fd()) {
        Next::Again
      } else {
        // A callback that panics must not take the thread (and every other wait) down with it.
        super::sync::contain("the poller's callback", || e.wait.wake(why)).unwrap_or(Next::Done)
      };
      if why == Wake::Ready && next == Next::Again {
        drained.insert(e.wait.fd());
        let mut entries = lock(&p.entries);
        if e.wait.wanted() {
          entries.1.push(e);
          continue;
        }
        drop(entries);
        e.wait.wake(Wake::Cancel);
      }
    }
  }
}

#[cfg(test)]
#[path = "poller_tests.rs"]
mod tests;
