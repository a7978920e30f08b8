//! sd_notify_barrier: proof that the manager processed everything sent before it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use super::assignment::Assignment;
use super::datagram::poll_until;
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
  /// Blocks until the manager closes its copy of the write end (POLLHUP), i.e. it has processed
  /// every earlier message of this socket, or fails with ETIMEDOUT.
  pub fn wait(self, timeout: Duration) -> Result<()> {
    poll_until(self.read_end.as_raw_fd(), 0, timeout, "barrier").map_err(|e| match e {
      NotifyError::Timeout { what, ms, .. } => {
        NotifyError::Timeout { what, ms, hint: ": the service manager did not confirm processing (barriers need systemd >= 246)" }
      }
      other => other,
    })
  }
}
