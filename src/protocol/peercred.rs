//! Who is on the other end of a connected AF_UNIX socket (SO_PEERCRED): the kernel's answer, which
//! the peer cannot forge. The reload channel uses it to accept only root or the service's user.

use std::os::fd::{BorrowedFd, RawFd};

use nix::sys::socket::{getsockopt, sockopt};

use super::error::{NotifyError, Result};

/// The peer's (pid, uid, gid).
pub fn peer_credentials(fd: RawFd) -> Result<(i32, u32, u32)> {
  if fd < 0 {
    return Err(NotifyError::InvalidFd { reason: format!("{fd} is negative") });
  }
  // SAFETY: only borrowed for the duration of the getsockopt call; the caller keeps it open.
  let fd = unsafe { BorrowedFd::borrow_raw(fd) };
  let cred = getsockopt(&fd, sockopt::PeerCredentials).map_err(|e| NotifyError::os("getsockopt(SO_PEERCRED)", e))?;
  Ok((cred.pid(), cred.uid(), cred.gid()))
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::fd::AsRawFd;
  use std::os::unix::net::UnixStream;

  #[test]
  fn a_socket_pair_sees_this_process_on_the_other_end() {
    let (a, _b) = UnixStream::pair().unwrap();
    let (pid, uid, _) = peer_credentials(a.as_raw_fd()).unwrap();
    assert_eq!(pid as u32, std::process::id());
    // SAFETY: getuid() has no preconditions.
    assert_eq!(uid, unsafe { libc::getuid() });
    assert_eq!(peer_credentials(-1).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  }
}
