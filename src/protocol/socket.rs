//! Sending one datagram to the service manager: one lazily created, reused AF_UNIX socket,
//! so a notification costs one `sendmsg`.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
  connect, sendmsg, setsockopt, shutdown, socket, sockopt, AddressFamily, ControlMessage, MsgFlags, Shutdown, SockFlag, SockType,
  VsockAddr,
};

use super::address::{self, NotifyAddress, VsockType};
use super::error::{NotifyError, Result};

/// SCM_RIGHTS carries at most this many descriptors per message (SCM_MAX_FD).
pub const MAX_FDS: usize = 253;

/// How long a stream/seqpacket vsock peer may take to confirm it read the message.
const VSOCK_EOF_WAIT: Duration = Duration::from_secs(5);

/// How long a send may wait for room in the receiver's queue.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// The one AF_UNIX datagram socket all notifications of this process go through.
static UNIX_SOCKET: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Calls `f` with `NOTIFY_SOCKET`'s bytes, read now (so changes to `process.env` take effect);
/// `None` when it is unset or empty. Read in place: std::env::var_os would copy the name into a
/// CString and the value into a new OsString on every call (a fifth of a notification's cost).
pub fn with_notify_socket<T>(f: impl FnOnce(&[u8]) -> T) -> Option<T> {
  // SAFETY: getenv returns NULL or a NUL-terminated string; glibc does not free a string that a
  // later setenv replaces, so it stays valid while `f` looks at it.
  let raw = unsafe { libc::getenv(c"NOTIFY_SOCKET".as_ptr()) };
  if raw.is_null() {
    return None;
  }
  // SAFETY: non-null and NUL-terminated (see above).
  let raw = unsafe { std::ffi::CStr::from_ptr(raw) }.to_bytes();
  (!raw.is_empty()).then(|| f(raw))
}

/// The last `NOTIFY_SOCKET` value seen and its parsed address: parsing costs more than it
/// takes to compare the variable with what it held at the previous call.
static LAST_ADDRESS: Mutex<Option<(Vec<u8>, NotifyAddress)>> = Mutex::new(None);

/// Sends `payload` (and `fds`) to the address in `NOTIFY_SOCKET`.
/// `Ok(false)`: not under a service manager, nothing sent.
pub fn send_to_env(payload: &[u8], fds: &[RawFd]) -> Result<bool> {
  let Some(addr) = with_notify_socket(cached_address) else { return Ok(false) };
  send(&addr?, payload, fds)?;
  Ok(true)
}

/// The parsed address of `raw`, parsed again only when `NOTIFY_SOCKET` changed.
fn cached_address(raw: &[u8]) -> Result<NotifyAddress> {
  let mut last = LAST_ADDRESS.lock().unwrap_or_else(|p| p.into_inner());
  match &*last {
    Some((seen, addr)) if seen.as_slice() == raw => Ok(addr.clone()),
    _ => {
      let addr = address::parse(raw)?;
      *last = Some((raw.to_vec(), addr.clone()));
      Ok(addr)
    }
  }
}

/// Sends one datagram to `addr`.
pub fn send(addr: &NotifyAddress, payload: &[u8], fds: &[RawFd]) -> Result<()> {
  if fds.len() > MAX_FDS {
    return Err(NotifyError::InvalidFd { reason: format!("{} descriptors, at most {MAX_FDS} fit in one message", fds.len()) });
  }
  validate_fds(fds)?;
  match addr {
    NotifyAddress::Unix(unix) => send_unix(unix, payload, fds),
    NotifyAddress::Vsock { kind, cid, port } => send_vsock(*kind, *cid, *port, payload, fds),
  }
}

/// Every descriptor must be open: checked before sending so nothing half-valid goes out.
pub fn validate_fds(fds: &[RawFd]) -> Result<()> {
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

fn new_unix_socket() -> Result<OwnedFd> {
  let fd =
    socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None).map_err(|e| NotifyError::os("socket", e))?;
  // Like libsystemd, a send waits while the manager's queue is full (max_dgram_qlen is often
  // only 10), but never forever: after SEND_TIMEOUT it fails with EAGAIN.
  let timeout = nix::sys::time::TimeVal::new(SEND_TIMEOUT.as_secs() as _, 0);
  setsockopt(&fd, sockopt::SendTimeout, &timeout).map_err(|e| NotifyError::os("setsockopt(SO_SNDTIMEO)", e))?;
  Ok(fd)
}

fn send_unix(addr: &nix::sys::socket::UnixAddr, payload: &[u8], fds: &[RawFd]) -> Result<()> {
  let iov = [IoSlice::new(payload)];
  let rights = [ControlMessage::ScmRights(fds)];
  let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
  let flags = MsgFlags::MSG_NOSIGNAL;
  // A poisoned lock only means another thread panicked mid-send; the socket itself is still fine.
  let mut cached = UNIX_SOCKET.lock().unwrap_or_else(|p| p.into_inner());
  for attempt in 0..2 {
    let fd = match cached.as_ref() {
      Some(fd) => fd.as_raw_fd(),
      None => cached.insert(new_unix_socket()?).as_raw_fd(),
    };
    match sendmsg(fd, &iov, cmsgs, flags, Some(addr)) {
      Ok(_) => return Ok(()),
      // Our cached descriptor was closed behind our back (e.g. by a careless closeSync): recreate once.
      Err(Errno::EBADF | Errno::ENOTSOCK) if attempt == 0 => *cached = None,
      Err(Errno::EAGAIN) => return Err(NotifyError::os("sendmsg (the receiver's queue stayed full for 5 s)", Errno::EAGAIN)),
      Err(e) => return Err(NotifyError::os("sendmsg", e)),
    }
  }
  Err(NotifyError::os("sendmsg", Errno::EBADF))
}

fn send_vsock(kind: VsockType, cid: u32, port: u32, payload: &[u8], fds: &[RawFd]) -> Result<()> {
  if !fds.is_empty() {
    return Err(NotifyError::os("sendmsg over AF_VSOCK (descriptors cannot be passed)", Errno::EOPNOTSUPP));
  }
  let addr = VsockAddr::new(cid, port);
  let mut last = Errno::EPROTONOSUPPORT;
  for ty in kind.candidates() {
    let fd = match socket(AddressFamily::Vsock, *ty, SockFlag::SOCK_CLOEXEC, None) {
      Ok(fd) => fd,
      // Untyped vsock: falls through to the next type when this one is unsupported.
      Err(e @ (Errno::EPROTOTYPE | Errno::ESOCKTNOSUPPORT | Errno::EPROTONOSUPPORT | Errno::ENODEV))
        if kind == VsockType::Any =>
      {
        last = e;
        continue;
      }
      Err(e) => return Err(NotifyError::os("socket(AF_VSOCK)", e)),
    };
    let iov = [IoSlice::new(payload)];
    if *ty == SockType::Datagram {
      sendmsg(fd.as_raw_fd(), &iov, &[], MsgFlags::MSG_NOSIGNAL, Some(&addr)).map_err(|e| NotifyError::os("sendmsg", e))?;
      return Ok(());
    }
    connect(fd.as_raw_fd(), &addr).map_err(|e| NotifyError::os("connect(AF_VSOCK)", e))?;
    sendmsg::<VsockAddr>(fd.as_raw_fd(), &iov, &[], MsgFlags::MSG_NOSIGNAL, None).map_err(|e| NotifyError::os("sendmsg", e))?;
    shutdown(fd.as_raw_fd(), Shutdown::Write).map_err(|e| NotifyError::os("shutdown", e))?;
    // The peer closes its side once it has read the message: wait for that EOF.
    wait_readable(&fd, VSOCK_EOF_WAIT)?;
    return Ok(());
  }
  Err(NotifyError::os("socket(AF_VSOCK)", last))
}

/// Polls `fd` until readable or hung up; ETIMEDOUT after `timeout`.
pub fn wait_readable(fd: &OwnedFd, timeout: Duration) -> Result<()> {
  poll_until(fd.as_raw_fd(), libc::POLLIN, timeout, "waiting for the peer")
}

/// Polls until any of `events` (POLLHUP and POLLERR always count) or `timeout`.
pub fn poll_until(fd: RawFd, events: libc::c_short, timeout: Duration, what: &'static str) -> Result<()> {
  let deadline = std::time::Instant::now() + timeout;
  loop {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
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
