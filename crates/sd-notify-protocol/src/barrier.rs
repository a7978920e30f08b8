//! sd_notify_barrier: proof that the manager processed everything sent before it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use super::assignment::Assignment;
use super::error::{NotifyError, Result};
use super::message::Message;
use super::notify_socket::send_to_env;

/// The manager's read end. Dropping it abandons the wait.
#[derive(Debug)]
pub struct PendingBarrier {
  read_end: OwnedFd,
}

/// Sends `BARRIER=1` with the write end of a fresh pipe, then closes our copy of the write end.
/// `Ok(None)`: not under a service manager.
pub fn send_barrier() -> Result<Option<PendingBarrier>> {
  let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).map_err(|e| NotifyError::os("pipe2", e))?;
  let mut msg = Message::new();
  msg.add(Assignment::Barrier)?;
  let sent = send_to_env(msg.datagram()?, &[write_end.as_raw_fd()])?;
  drop(write_end);
  Ok(sent.then_some(PendingBarrier { read_end }))
}

impl PendingBarrier {
  /// The pipe's read end, for the poller to wait on (POLLHUP: confirmed).
  pub fn into_read_end(self) -> OwnedFd {
    self.read_end
  }

  /// ETIMEDOUT for a barrier that waited `timeout` in vain.
  pub fn timeout(timeout: Duration) -> NotifyError {
    NotifyError::Timeout {
      what: "barrier",
      ms: timeout.as_millis() as u64,
      hint: ": the service manager did not confirm processing (barriers need systemd >= 246)",
    }
  }

  #[cfg(test)]
  pub fn for_tests(read_end: OwnedFd) -> Self {
    Self { read_end }
  }
}
