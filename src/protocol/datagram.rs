//! AF_UNIX datagram plumbing shared by every socket this process sends on (the notify socket,
//! the journal): one lazily created, reused descriptor per socket, so a send costs one `sendmsg`.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, SockaddrLike};

use super::error::{NotifyError, Result};
use super::sync::lock;

/// SCM_RIGHTS carries at most this many descriptors per message (SCM_MAX_FD).
pub const MAX_FDS: usize = 253;

/// A failed send: which call failed, and its errno (callers decide what an errno means to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendFailure {
  pub call: &'static str,
  pub errno: Errno,
}

impl From<SendFailure> for NotifyError {
  fn from(f: SendFailure) -> Self {
    NotifyError::os(f.call, f.errno)
  }
}

/// One `SOCK_DGRAM | SOCK_CLOEXEC` socket, created on first use by `setup`'s rules and reused.
#[derive(Debug)]
pub struct DatagramSocket {
  fd: Mutex<Option<OwnedFd>>,
  /// Socket options for a new descriptor (send timeout, buffer size, ...).
  setup: fn(&OwnedFd) -> nix::Result<()>,
}

impl DatagramSocket {
  pub const fn new(setup: fn(&OwnedFd) -> nix::Result<()>) -> Self {
    Self { fd: Mutex::new(None), setup }
  }

  /// Sends one datagram made of `iov` (and `fds`) to `addr` with `MSG_NOSIGNAL | flags`.
  /// A descriptor closed behind our back (a careless `closeSync`) is recreated once.
  pub fn send<A: SockaddrLike>(
    &self,
    addr: &A,
    iov: &[IoSlice<'_>],
    fds: &[RawFd],
    flags: MsgFlags,
  ) -> std::result::Result<usize, SendFailure> {
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let flags = flags | MsgFlags::MSG_NOSIGNAL;
    let mut cached = lock(&self.fd);
    for attempt in 0..2 {
      let fd = match cached.as_ref() {
        Some(fd) => fd.as_raw_fd(),
        None => cached.insert(self.open().map_err(|errno| SendFailure { call: "socket", errno })?).as_raw_fd(),
      };
      let sent = if fds.is_empty() { send_plain(fd, addr, iov, flags) } else { sendmsg(fd, iov, cmsgs, flags, Some(addr)) };
      match sent {
        Ok(n) => return Ok(n),
        Err(Errno::EBADF | Errno::ENOTSOCK) if attempt == 0 => *cached = None,
        Err(errno) => return Err(SendFailure { call: "sendmsg", errno }),
      }
    }
    Err(SendFailure { call: "sendmsg", errno: Errno::EBADF })
  }

  fn open(&self) -> std::result::Result<OwnedFd, Errno> {
    let fd = socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    (self.setup)(&fd)?;
    Ok(fd)
  }
}

/// `sendmsg` without control data, straight to libc: nix's wrapper prepares a control buffer
/// even when there is nothing to put in it, and this is every notification's path.
fn send_plain<A: SockaddrLike>(fd: RawFd, addr: &A, iov: &[IoSlice<'_>], flags: MsgFlags) -> nix::Result<usize> {
  // SAFETY: an all-zero msghdr is a valid empty one.
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  msg.msg_name = addr.as_ptr() as *mut libc::c_void;
  msg.msg_namelen = addr.len();
  // IoSlice is guaranteed ABI-compatible with iovec on Unix; sendmsg only reads through it.
  msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
  msg.msg_iovlen = iov.len() as _;
  // SAFETY: `msg` points at `addr` and `iov`, both alive for the call.
  let n = unsafe { libc::sendmsg(fd, &msg, flags.bits()) };
  Errno::result(n).map(|n| n as usize)
}

/// Every descriptor must be open and there may be at most [`MAX_FDS`]: checked before sending,
/// so nothing half-valid goes out.
pub fn validate_fds(fds: &[RawFd]) -> Result<()> {
  if fds.len() > MAX_FDS {
    return Err(NotifyError::InvalidFd { reason: format!("{} descriptors, at most {MAX_FDS} fit in one message", fds.len()) });
  }
  for &fd in fds {
    if fd < 0 {
      return Err(NotifyError::InvalidFd { reason: format!("{fd} is negative") });
    }
    // SAFETY: F_GETFD only reads the descriptor flags.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
      return Err(NotifyError::InvalidFd { reason: format!("{fd} is not an open descriptor (EBADF)") });
    }
  }
  Ok(())
}

/// Polls until any of `events` (POLLHUP and POLLERR always count) or `timeout` (ETIMEDOUT).
pub fn poll_until(fd: RawFd, events: libc::c_short, timeout: Duration, what: &'static str) -> Result<()> {
  let deadline = Instant::now() + timeout;
  loop {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n > 0 {
      return Ok(());
    }
    if n == 0 {
      return Err(NotifyError::Timeout { what, ms: timeout.as_millis() as u64, hint: "" });
    }
    let e = Errno::last();
    if e != Errno::EINTR {
      return Err(NotifyError::os("poll", e));
    }
  }
}
