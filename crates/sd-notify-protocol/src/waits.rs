//! The waits the poller runs for the binding: a listener's next datagram, a barrier's
//! confirmation. Each ends by calling its `done` exactly once, on whichever thread settles it.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;

use super::barrier::PendingBarrier;
use super::error::{NotifyError, Result};
use super::listener::{receive_timeout, Listener, Received};
use super::poller::{self, Next, Wait, Wake};

/// Called once with the outcome.
pub type Done<T> = Box<dyn FnOnce(Result<T>) + Send>;

/// A wait that could not start (no poller thread): settles it with that error at once.
fn start(wait: Box<dyn Wait>, deadline: Option<Instant>) {
  if let Err((errno, mut wait)) = poller::add(wait, deadline) {
    wait.wake(Wake::Failed(errno));
  }
}

/// The next datagram of `listener`, within `timeout` (`None`: until one arrives or it closes).
/// `owner` tags the wait for [`poller::cancel`] (the JavaScript environment it belongs to).
pub fn receive(listener: Arc<Listener>, timeout: Option<Duration>, owner: u64, done: Done<Received>) {
  // A timeout too far to represent is none.
  let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
  start(Box::new(ReceiveWait { listener, timeout, owner, done: Some(done) }), deadline);
}

struct ReceiveWait {
  listener: Arc<Listener>,
  timeout: Option<Duration>,
  owner: u64,
  done: Option<Done<Received>>,
}

impl ReceiveWait {
  fn finish(&mut self, outcome: Result<Received>) -> Next {
    if let Some(done) = self.done.take() {
      done(outcome);
    }
    Next::Done
  }
}

impl Wait for ReceiveWait {
  fn fd(&self) -> RawFd {
    self.listener.raw_fd()
  }

  fn events(&self) -> PollFlags {
    PollFlags::POLLIN
  }

  fn wake(&mut self, why: Wake) -> Next {
    match why {
      Wake::Ready => match self.listener.try_next() {
        Ok(None) => Next::Again,
        Ok(Some(r)) => self.finish(Ok(r)),
        Err(e) => self.finish(Err(e)),
      },
      Wake::Timeout => self.finish(Err(receive_timeout(self.timeout.unwrap_or_default()))),
      Wake::Cancel => self.finish(Err(NotifyError::ListenerClosed)),
      Wake::Failed(errno) => self.finish(Err(NotifyError::os("starting the poller thread", errno))),
    }
  }

  fn wanted(&self) -> bool {
    !self.listener.is_closed()
  }

  fn owners(&self) -> [u64; 2] {
    [self.listener.id(), self.owner]
  }
}

impl Drop for ReceiveWait {
  /// Never dropped unsettled (a pending promise would keep the process alive for ever).
  fn drop(&mut self) {
    self.finish(Err(NotifyError::ListenerClosed));
  }
}

/// Waits for the manager to confirm `pending` (its copy of the pipe's write end closed).
pub fn barrier(pending: PendingBarrier, timeout: Duration, owner: u64, done: Done<bool>) {
  let deadline = Instant::now().checked_add(timeout);
  start(Box::new(BarrierWait { read_end: pending.into_read_end(), timeout, owner, done: Some(done) }), deadline);
}

struct BarrierWait {
  read_end: OwnedFd,
  timeout: Duration,
  owner: u64,
  done: Option<Done<bool>>,
}

impl BarrierWait {
  fn finish(&mut self, outcome: Result<bool>) -> Next {
    if let Some(done) = self.done.take() {
      done(outcome);
    }
    Next::Done
  }
}

impl Wait for BarrierWait {
  fn fd(&self) -> RawFd {
    self.read_end.as_raw_fd()
  }

  /// POLLHUP only (always reported): the manager writes nothing, it closes.
  fn events(&self) -> PollFlags {
    PollFlags::empty()
  }

  fn wake(&mut self, why: Wake) -> Next {
    match why {
      Wake::Ready => self.finish(Ok(true)),
      Wake::Timeout => self.finish(Err(PendingBarrier::timeout(self.timeout))),
      Wake::Cancel => self.finish(Err(NotifyError::os("barrier (its JavaScript environment ended)", Errno::ECANCELED))),
      Wake::Failed(errno) => self.finish(Err(NotifyError::os("starting the poller thread", errno))),
    }
  }

  fn owners(&self) -> [u64; 2] {
    [self.owner, self.owner]
  }
}

impl Drop for BarrierWait {
  fn drop(&mut self) {
    self.finish(Err(NotifyError::os("barrier", Errno::ECANCELED)));
  }
}
