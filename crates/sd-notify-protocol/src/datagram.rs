//! AF_UNIX datagram plumbing shared by every socket this process sends on (the notify socket,
//! the journal): one lazily created, reused descriptor per socket, so a send costs one `sendmsg`.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, SockaddrLike};

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
///
/// It is `connect()`ed to the address it last sent to, and sends without naming it: an
/// unconnected `sendmsg` makes the kernel look the path up (and check its permissions) on every
/// send, about a third of the cost of a small datagram. A different address connects again
/// (`connect` on a datagram socket only changes its peer). When the socket it is connected to
/// closes, the next send fails with ECONNREFUSED before anything is sent; the address is then
/// looked up again and the send made once more, so a manager or journald that re-creates its
/// socket is found at once. The one difference from an unconnected send: a socket bound to the
/// same path *while the old one is still open* is not seen until the old one closes (no
/// service manager does that; see README.md, "How it works").
#[derive(Debug)]
pub struct DatagramSocket {
  state: Mutex<Option<Open>>,
  /// Socket options for a new descriptor (send timeout, buffer size, ...).
  setup: fn(&OwnedFd) -> nix::Result<()>,
}

/// The open descriptor and the address it is connected to, if any.
#[derive(Debug)]
struct Open {
  /// Shared with senders waiting for room outside the lock (see `send_until`).
  fd: Arc<OwnedFd>,
  peer: Option<Peer>,
}

/// An address's bytes, as `connect` took them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Peer {
  len: usize,
  bytes: [u8; PEER_MAX],
}

/// Room for any AF_UNIX address (`sockaddr_un` is 110 bytes); a longer one is never connected.
const PEER_MAX: usize = 128;

impl Peer {
  fn of<A: SockaddrLike>(addr: &A) -> Option<Self> {
    let len = addr.len() as usize;
    if len > PEER_MAX {
      return None;
    }
    let mut bytes = [0; PEER_MAX];
    // SAFETY: `as_ptr` points at `len` readable bytes of the address.
    bytes[..len].copy_from_slice(unsafe { std::slice::from_raw_parts(addr.as_ptr().cast::<u8>(), len) });
    Some(Self { len, bytes })
  }

  /// Whether `addr` is this address, without copying it.
  fn is<A: SockaddrLike>(&self, addr: &A) -> bool {
    let len = addr.len() as usize;
    // SAFETY: as above; only read when the lengths match (len <= PEER_MAX).
    len == self.len && self.bytes[..len] == *unsafe { std::slice::from_raw_parts(addr.as_ptr().cast::<u8>(), len) }
  }
}

impl DatagramSocket {
  pub const fn new(setup: fn(&OwnedFd) -> nix::Result<()>) -> Self {
    Self { state: Mutex::new(None), setup }
  }

  /// Sends one datagram made of `iov` (and `fds`) to `addr` with `MSG_NOSIGNAL | flags`.
  /// A descriptor closed behind our back (a careless `closeSync`) is recreated once, and a peer
  /// that closed is looked up again once (see the type's documentation).
  pub fn send<A: SockaddrLike>(
    &self,
    addr: &A,
    iov: &[IoSlice<'_>],
    fds: &[RawFd],
    flags: MsgFlags,
  ) -> std::result::Result<usize, SendFailure> {
    self.send_once(addr, iov, fds, flags).map_err(|(f, _)| f)
  }

  /// Like `send`, but waits for room in a full receive queue for `timeout` (then EAGAIN),
  /// and waits *outside* the lock: a sender stuck on a full queue (the watchdog's ping) does
  /// not make another wait for the lock first, so no send waits longer than its own deadline.
  pub fn send_until<A: SockaddrLike>(
    &self,
    addr: &A,
    iov: &[IoSlice<'_>],
    fds: &[RawFd],
    timeout: Duration,
  ) -> std::result::Result<usize, SendFailure> {
    let mut pause = Duration::from_millis(1);
    // Read from the clock only once the queue is found full: the usual send costs no more.
    let mut deadline = None;
    loop {
      let fd = match self.send_once(addr, iov, fds, MsgFlags::MSG_DONTWAIT) {
        Ok(n) => return Ok(n),
        Err((f, Some(fd))) if f.errno == Errno::EAGAIN => fd,
        Err((f, _)) => return Err(f),
      };
      let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
      let left = deadline.saturating_duration_since(Instant::now());
      if left.is_zero() {
        return Err(SendFailure { call: "sendmsg", errno: Errno::EAGAIN });
      }
      // A connected datagram socket polls writable once the peer's queue has room.
      let started = Instant::now();
      if poll_until(fd.as_fd(), PollFlags::POLLOUT, left, "sendmsg").is_ok() && started.elapsed() < pause {
        // Writable at once yet refused (an unconnected socket, whose poll knows nothing of the
        // peer's queue): back off instead of spinning.
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(50));
      }
    }
  }

  /// One attempt; on failure, also the descriptor it was made on (to wait on it unlocked).
  #[allow(clippy::type_complexity)]
  fn send_once<A: SockaddrLike>(
    &self,
    addr: &A,
    iov: &[IoSlice<'_>],
    fds: &[RawFd],
    flags: MsgFlags,
  ) -> std::result::Result<usize, (SendFailure, Option<Arc<OwnedFd>>)> {
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let flags = flags | MsgFlags::MSG_NOSIGNAL;
    let mut state = lock(&self.state);
    for attempt in 0..2 {
      let open = match state.as_mut() {
        Some(open) => open,
        None => state
          .insert(Open { fd: Arc::new(self.open().map_err(|errno| (SendFailure { call: "socket", errno }, None))?), peer: None }),
      };
      let fd = open.fd.as_raw_fd();
      // Connected to `addr`: send without naming it. Otherwise connect (a longer address than
      // PEER_MAX, never seen in practice, is named on each send instead).
      let named = match open.peer {
        Some(peer) if peer.is(addr) => false,
        _ => {
          open.peer = None;
          match Peer::of(addr) {
            Some(peer) => match connect(fd, addr) {
              Ok(()) => {
                open.peer = Some(peer);
                false
              }
              Err(Errno::EBADF | Errno::ENOTSOCK) if attempt == 0 => {
                *state = None;
                continue;
              }
              Err(errno) => return Err((SendFailure { call: "connect", errno }, None)),
            },
            None => true,
          }
        }
      };
      let to = named.then_some(addr);
      let sent = if fds.is_empty() { send_plain(fd, to, iov, flags) } else { sendmsg(fd, iov, cmsgs, flags, to) };
      match sent {
        Ok(n) => return Ok(n),
        Err(Errno::EBADF | Errno::ENOTSOCK) if attempt == 0 => *state = None,
        // The socket it was connected to has closed (the kernel has disconnected this one):
        // nothing was sent; look the address up again.
        Err(Errno::ECONNREFUSED | Errno::ECONNRESET | Errno::ENOTCONN) if attempt == 0 && !named => open.peer = None,
        Err(errno) => return Err((SendFailure { call: "sendmsg", errno }, Some(Arc::clone(&open.fd)))),
      }
    }
    Err((SendFailure { call: "sendmsg", errno: Errno::EBADF }, None))
  }

  fn open(&self) -> std::result::Result<OwnedFd, Errno> {
    let fd = socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    (self.setup)(&fd)?;
    Ok(fd)
  }
}

/// `sendmsg` without control data (to `addr`, or the connected peer), straight to libc: nix's wrapper prepares a control buffer
/// even when there is nothing to put in it, and this is every notification's path.
// libc kept here: a measured hot path (bench/NOTES.md, "the send itself").
fn send_plain<A: SockaddrLike>(fd: RawFd, addr: Option<&A>, iov: &[IoSlice<'_>], flags: MsgFlags) -> nix::Result<usize> {
  // SAFETY: an all-zero msghdr is a valid empty one (no name: the connected peer).
  let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
  if let Some(addr) = addr {
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
  }
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
    // SAFETY: not -1 (checked above); borrowed for this one F_GETFD, which only reads the
    // descriptor's flags and fails with EBADF on a number that is not open (what is checked).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    if fcntl(borrowed, FcntlArg::F_GETFD).is_err() {
      return Err(NotifyError::InvalidFd { reason: format!("{fd} is not an open descriptor (EBADF)") });
    }
  }
  Ok(())
}

/// Polls until any of `events` (POLLHUP and POLLERR always count) or `timeout` (ETIMEDOUT).
pub fn poll_until(fd: BorrowedFd<'_>, events: PollFlags, timeout: Duration, what: &'static str) -> Result<()> {
  let deadline = Instant::now() + timeout;
  loop {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = PollTimeout::try_from(left.as_millis()).unwrap_or(PollTimeout::MAX);
    match nix::poll::poll(&mut [PollFd::new(fd, events)], ms) {
      Ok(0) => return Err(NotifyError::Timeout { what, ms: timeout.as_millis() as u64, hint: "" }),
      Ok(_) => return Ok(()),
      Err(Errno::EINTR) => {}
      Err(e) => return Err(NotifyError::os("poll", e)),
    }
  }
}

#[cfg(test)]
#[path = "datagram_tests.rs"]
mod tests;
