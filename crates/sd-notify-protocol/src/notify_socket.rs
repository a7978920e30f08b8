//! The notify socket: the address in `NOTIFY_SOCKET` and sending one datagram to it.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{
  connect, getsockopt, sendmsg, shutdown, socket, sockopt, AddressFamily, MsgFlags, Shutdown, SockFlag, SockType, VsockAddr,
};

use super::address::{self, NotifyAddress, VsockType};
use super::datagram::{poll_until, validate_fds, DatagramSocket};
use super::env;
use super::error::{NotifyError, Result};
use super::sync::lock;

/// How long a stream/seqpacket vsock notification may block its caller in all: the connection
/// and the peer's confirmation (EOF) that it read the message. The caller is the event loop for
/// `notify()`: a hypervisor on the same host answers in well under a millisecond, and a peer
/// that does not answer (an unreachable CID makes connect() wait 2 s) costs at most this.
pub const VSOCK_BUDGET: Duration = Duration::from_millis(500);

/// How long a send may wait for room in the receiver's queue.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// The one AF_UNIX datagram socket all notifications of this process go through. Like
/// libsystemd, a send waits while the manager's queue is full (max_dgram_qlen is often only 10),
/// but never forever: after SEND_TIMEOUT in all it fails with EAGAIN. The wait happens outside
/// the socket's lock (`send_until`), so a notification never first waits for the watchdog's
/// ping to give up on the same full queue.
static UNIX_SOCKET: DatagramSocket = DatagramSocket::new(|_| Ok(()));

/// Calls `f` with `NOTIFY_SOCKET`'s bytes, read now (so changes to `process.env` take effect);
/// `None` when it is unset or empty.
pub fn with_notify_socket<T>(f: impl FnOnce(&[u8]) -> T) -> Option<T> {
  env::with_var(c"NOTIFY_SOCKET", |raw| (!raw.is_empty()).then(|| f(raw))).flatten()
}

/// The last `NOTIFY_SOCKET` value seen and its parsed address: parsing costs more than it
/// takes to compare the variable with what it held at the previous call.
static LAST_ADDRESS: Mutex<Option<(Vec<u8>, Arc<NotifyAddress>)>> = Mutex::new(None);

/// Sends `payload` (and `fds`) to the address in `NOTIFY_SOCKET`.
/// `Ok(false)`: not under a service manager, nothing sent.
pub fn send_to_env(payload: &[u8], fds: &[RawFd]) -> Result<bool> {
  let vsock = with_notify_socket(|raw| {
    let mut last = lock(&LAST_ADDRESS);
    let addr = match &*last {
      Some((seen, addr)) if seen.as_slice() == raw => addr,
      _ => &last.insert((raw.to_vec(), Arc::new(address::parse(raw)?))).1,
    };
    match &**addr {
      // The usual case, sent under the lock: the socket's own lock serialises sends anyway.
      NotifyAddress::Unix(_) => send(addr, payload, fds).map(|()| None),
      // A vsock send may wait seconds for its peer: not while holding the address.
      NotifyAddress::Vsock { .. } => Ok(Some(Arc::clone(addr))),
    }
  });
  match vsock {
    None => Ok(false),
    Some(Ok(None)) => Ok(true),
    Some(Ok(Some(addr))) => send(&addr, payload, fds).map(|()| true),
    Some(Err(e)) => Err(e),
  }
}

/// Sends one datagram to `addr`.
pub fn send(addr: &NotifyAddress, payload: &[u8], fds: &[RawFd]) -> Result<()> {
  if !fds.is_empty() {
    validate_fds(fds)?;
  }
  match addr {
    NotifyAddress::Unix(unix) => match UNIX_SOCKET.send_until(unix, &[IoSlice::new(payload)], fds, SEND_TIMEOUT) {
      Ok(_) => Ok(()),
      Err(f) if f.errno == Errno::EAGAIN => {
        Err(NotifyError::os("sendmsg (the receiver's queue stayed full for 5 s)", Errno::EAGAIN))
      }
      Err(f) => Err(f.into()),
    },
    NotifyAddress::Vsock { kind, cid, port } => send_vsock(*kind, *cid, *port, payload, fds),
  }
}

fn send_vsock(kind: VsockType, cid: u32, port: u32, payload: &[u8], fds: &[RawFd]) -> Result<()> {
  if !fds.is_empty() {
    return Err(NotifyError::os("sendmsg over AF_VSOCK (descriptors cannot be passed)", Errno::EOPNOTSUPP));
  }
  let addr = VsockAddr::new(cid, port);
  let deadline = Instant::now() + VSOCK_BUDGET;
  let mut last = Errno::EPROTONOSUPPORT;
  for ty in kind.candidates() {
    // Non-blocking: connect() and the peer's confirmation are waited for with the budget.
    let fd = match socket(AddressFamily::Vsock, *ty, SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK, None) {
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
    match connect(fd.as_raw_fd(), &addr) {
      Ok(()) => {}
      Err(Errno::EINPROGRESS) => {
        within_budget(&fd, PollFlags::POLLOUT, deadline, "connect(AF_VSOCK)")?;
        let error = getsockopt(&fd, sockopt::SocketError).map_err(|e| NotifyError::os("getsockopt(SO_ERROR)", e))?;
        if error != 0 {
          return Err(NotifyError::os("connect(AF_VSOCK)", Errno::from_raw(error)));
        }
      }
      Err(e) => return Err(NotifyError::os("connect(AF_VSOCK)", e)),
    }
    sendmsg::<VsockAddr>(fd.as_raw_fd(), &iov, &[], MsgFlags::MSG_NOSIGNAL, None).map_err(|e| NotifyError::os("sendmsg", e))?;
    shutdown(fd.as_raw_fd(), Shutdown::Write).map_err(|e| NotifyError::os("shutdown", e))?;
    // The peer closes its side once it has read the message: wait for that EOF.
    within_budget(&fd, PollFlags::POLLIN, deadline, "waiting for the vsock peer to confirm")?;
    return Ok(());
  }
  Err(NotifyError::os("socket(AF_VSOCK)", last))
}

/// Polls `fd` for `events` (or a hang-up) until `deadline`; ETIMEDOUT naming the budget after.
fn within_budget(fd: &OwnedFd, events: PollFlags, deadline: Instant, what: &'static str) -> Result<()> {
  poll_until(fd.as_fd(), events, deadline.saturating_duration_since(Instant::now()), what).map_err(|e| match e {
    NotifyError::Timeout { what, .. } => NotifyError::Timeout {
      what,
      ms: VSOCK_BUDGET.as_millis() as u64,
      hint: " (the bound on a vsock notification: connecting and the peer's confirmation)",
    },
    other => other,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_vsock_stream_peer_that_never_answers_costs_the_budget_not_connects_own_timeout() {
    // CID 1 is the local host: with no vsock transport answering, connect() alone would wait
    // 2 s. Machines without AF_VSOCK fail at once (ENODEV, EAFNOSUPPORT): nothing to bound there.
    let addr = address::parse(b"vsock-stream:1:9").unwrap();
    match send(&addr, b"READY=1", &[]) {
      Err(NotifyError::Timeout { hint, ms, .. }) => {
        assert_eq!(ms, VSOCK_BUDGET.as_millis() as u64);
        assert!(hint.contains("bound on a vsock notification"), "{hint}");
      }
      Err(NotifyError::Os { errno: Errno::ETIMEDOUT, .. }) => panic!("connect() ran into its own (2 s) timeout"),
      _ => {}
    }
  }
}
