//! A stand-in for the service manager's notification socket: binds an AF_UNIX datagram socket
//! with SO_PASSCRED and receives notifications with the sender's credentials and passed fds.

use std::collections::HashSet;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
  bind, recv, recvmsg, setsockopt, shutdown, socket, sockopt, AddressFamily, ControlMessageOwned, MsgFlags, Shutdown, SockFlag,
  SockType, UnixAddr,
};

use super::address::{self, NotifyAddress};
use super::datagram::{poll_until, MAX_FDS};
use super::error::{NotifyError, Result};

/// One received notification.
#[derive(Debug)]
pub struct Received {
  pub data: Vec<u8>,
  pub pid: i32,
  pub uid: u32,
  pub gid: u32,
  /// Descriptors received (close-on-exec); the caller owns them.
  pub fds: Vec<RawFd>,
}

#[derive(Debug)]
pub struct Listener {
  /// `None` once closed.
  fd: RwLock<Option<OwnedFd>>,
  address: String,
  unlink_on_close: Option<PathBuf>,
  closed: AtomicBool,
  /// Descriptors received and not yet closed by [`Listener::close_received`].
  received: Mutex<HashSet<RawFd>>,
}

fn random_suffix() -> u64 {
  let mut buf = [0u8; 8];
  // SAFETY: getrandom writes at most buf.len() bytes into buf.
  let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
  if n == 8 {
    u64::from_ne_bytes(buf)
  } else {
    // Not secret, only unique: time and pid are enough as a fallback.
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    t ^ u64::from(std::process::id()) << 32
  }
}

impl Listener {
  /// Binds `address` (`/path` or `@abstract`); `None` picks a fresh abstract name.
  pub fn bind(address: Option<&str>) -> Result<Self> {
    let address = match address {
      Some(a) => a.to_owned(),
      None => format!("@sd-notify-rs/{}/{:016x}", std::process::id(), random_suffix()),
    };
    let unix: UnixAddr = match address::parse(address.as_bytes())? {
      NotifyAddress::Unix(u) => u,
      NotifyAddress::Vsock { .. } => {
        return Err(NotifyError::InvalidAddress { address, reason: "a NotifyListener binds /path or @abstract only".into() })
      }
    };
    let fd =
      socket(AddressFamily::Unix, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None).map_err(|e| NotifyError::os("socket", e))?;
    // Like the manager: the kernel attaches the sender's pid/uid/gid to every datagram.
    setsockopt(&fd, sockopt::PassCred, &true).map_err(|e| NotifyError::os("setsockopt(SO_PASSCRED)", e))?;
    bind(fd.as_raw_fd(), &unix).map_err(|e| NotifyError::os("bind", e))?;
    let unlink_on_close = unix.path().map(|p| PathBuf::from(std::ffi::OsStr::from_bytes(p.as_os_str().as_bytes())));
    Ok(Self {
      fd: RwLock::new(Some(fd)),
      address,
      unlink_on_close,
      closed: AtomicBool::new(false),
      received: Mutex::new(HashSet::new()),
    })
  }

  /// The value to put in NOTIFY_SOCKET.
  pub fn address(&self) -> &str {
    &self.address
  }

  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::Acquire)
  }

  /// Waits for the next datagram (`None`: forever). Safe to call from several threads at once:
  /// each datagram goes to exactly one caller.
  pub fn receive(&self, timeout: Option<Duration>) -> Result<Received> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
      // Held while this thread uses the descriptor: close() takes it exclusively to close it.
      let guard = self.fd.read().unwrap_or_else(|p| p.into_inner());
      let fd = match guard.as_ref() {
        Some(fd) if !self.is_closed() => fd.as_raw_fd(),
        _ => return Err(NotifyError::ListenerClosed),
      };
      match try_receive(fd) {
        Ok(r) => {
          self.received.lock().unwrap_or_else(|p| p.into_inner()).extend(&r.fds);
          return Ok(r);
        }
        Err(NotifyError::Os { errno: Errno::EAGAIN, .. }) => {}
        Err(e) => return Err(e),
      }
      let left = match deadline {
        Some(d) => {
          let left = d.saturating_duration_since(std::time::Instant::now());
          if left.is_zero() {
            return Err(NotifyError::Timeout {
              what: "NotifyListener.receive",
              ms: timeout.unwrap_or_default().as_millis() as u64,
              hint: ": no notification arrived",
            });
          }
          left
        }
        None => Duration::from_secs(3600),
      };
      match poll_until(fd, libc::POLLIN, left, "NotifyListener.receive") {
        Ok(()) | Err(NotifyError::Timeout { .. }) => {}
        Err(e) => return Err(e),
      }
    }
  }

  /// Closes descriptors this listener received, with close(2) itself: for runtimes whose own
  /// `close` knows only the descriptors they opened (Deno). All are checked first: one that did
  /// not arrive here, or was closed by this already, is ERR_SD_NOTIFY_INVALID_FD and nothing is
  /// closed.
  pub fn close_received(&self, fds: &[RawFd]) -> Result<()> {
    let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
    let mut seen = HashSet::new();
    if let Some(fd) = fds.iter().find(|fd| !received.contains(fd) || !seen.insert(**fd)) {
      let reason =
        if seen.contains(fd) { "it is listed twice" } else { "it did not arrive at this listener, or was closed already" };
      return Err(NotifyError::InvalidFd { reason: format!("cannot close {fd}: {reason}") });
    }
    let mut first_error = None;
    for fd in fds {
      received.remove(fd);
      // SAFETY: `fd` arrived with a message (SCM_RIGHTS) and belongs to the caller, who hands it
      // back here to be closed; it is forgotten before anything else can reuse its number.
      if unsafe { libc::close(*fd) } != 0 && first_error.is_none() {
        first_error = Some(NotifyError::os("close", Errno::last()));
      }
    }
    first_error.map_or(Ok(()), Err)
  }

  /// Wakes every pending `receive` (they fail with ERR_SD_NOTIFY_LISTENER_CLOSED), closes the
  /// descriptor (which releases an abstract name) and removes a filesystem socket file, all now,
  /// not when the object is collected. Idempotent.
  pub fn close(&self) {
    if self.closed.swap(true, Ordering::AcqRel) {
      return;
    }
    // shutdown() makes poll() report the socket readable, so blocked receivers wake up at once
    // and give up their read guard; then the descriptor can be closed under the write guard.
    if let Some(fd) = self.fd.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
      let _ = shutdown(fd.as_raw_fd(), Shutdown::Both);
    }
    drop(self.fd.write().unwrap_or_else(|p| p.into_inner()).take());
    if let Some(path) = &self.unlink_on_close {
      let _ = std::fs::remove_file(path);
    }
  }
}

/// One datagram, whatever its size, with the sender's credentials and descriptors.
fn try_receive(fd: RawFd) -> Result<Received> {
  // MSG_PEEK | MSG_TRUNC gives the datagram's real length without taking it.
  let len = recv(fd, &mut [], MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC)
    .map_err(|e| NotifyError::os("recv", e))?;
  let mut buf = vec![0u8; len];
  let mut cmsg = nix::cmsg_space!(libc::ucred, [RawFd; MAX_FDS]);
  let (len, pid, uid, gid, fds) = {
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(fd, &mut iov, Some(&mut cmsg), MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC)
      .map_err(|e| NotifyError::os("recvmsg", e))?;
    let (mut pid, mut uid, mut gid, mut fds) = (0, 0, 0, Vec::new());
    for c in msg.cmsgs().map_err(|e| NotifyError::os("recvmsg control data", e))? {
      match c {
        ControlMessageOwned::ScmCredentials(cred) => {
          pid = cred.pid();
          uid = cred.uid();
          gid = cred.gid();
        }
        ControlMessageOwned::ScmRights(received) => fds.extend(received),
        _ => {}
      }
    }
    (msg.bytes, pid, uid, gid, fds)
  };
  buf.truncate(len);
  Ok(Received { data: buf, pid, uid, gid, fds })
}

impl Drop for Listener {
  fn drop(&mut self) {
    self.close();
  }
}

#[cfg(test)]
mod tests {
  use super::super::notify_socket::send;
  use super::*;

  #[test]
  fn receives_what_was_sent_with_our_credentials() {
    let l = Listener::bind(None).unwrap();
    let addr = address::parse(l.address().as_bytes()).unwrap();
    send(&addr, b"READY=1", &[]).unwrap();
    let r = l.receive(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(r.data, b"READY=1");
    assert_eq!(r.pid as u32, std::process::id());
    // SAFETY: getuid() has no preconditions.
    assert_eq!(r.uid, unsafe { libc::getuid() });
  }

  #[test]
  fn close_releases_the_descriptor_and_the_abstract_name_at_once() {
    let open_fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let before = open_fds();
    // Kept alive (not dropped): only close() may release them.
    let listeners: Vec<Listener> = (0..2000).map(|_| Listener::bind(None).unwrap()).collect();
    listeners.iter().for_each(Listener::close);
    assert!(open_fds() <= before + 8, "{} descriptors still open after close()", open_fds() - before);
    let again = Listener::bind(Some(listeners[0].address())).unwrap();
    assert_eq!(listeners[0].receive(None).unwrap_err(), NotifyError::ListenerClosed);
    again.close();
  }

  #[test]
  fn close_received_closes_what_arrived_here_once_and_nothing_else() {
    let l = Listener::bind(None).unwrap();
    let addr = address::parse(l.address().as_bytes()).unwrap();
    let file = std::fs::File::open("/dev/null").unwrap();
    send(&addr, b"FDSTORE=1", &[file.as_raw_fd()]).unwrap();
    let r = l.receive(Some(Duration::from_secs(5))).unwrap();
    let fd = r.fds[0];
    assert_eq!(l.close_received(&[fd, fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
    assert_eq!(l.close_received(&[file.as_raw_fd()]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
    // SAFETY: fcntl(F_GETFD) only reads the descriptor table (any fd number is safe to ask about).
    assert_ne!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, -1, "a refused call closes nothing");
    l.close_received(&[fd]).unwrap();
    // SAFETY: fcntl(F_GETFD) only reads the descriptor table (any fd number is safe to ask about).
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, -1, "closed");
    assert_eq!(l.close_received(&[fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  }

  #[test]
  fn receive_times_out_with_etimedout() {
    let l = Listener::bind(None).unwrap();
    assert_eq!(l.receive(Some(Duration::from_millis(20))).unwrap_err().code(), "ETIMEDOUT");
  }

  #[test]
  fn close_wakes_a_blocked_receiver() {
    let l = std::sync::Arc::new(Listener::bind(None).unwrap());
    let l2 = l.clone();
    let t = std::thread::spawn(move || l2.receive(None));
    std::thread::sleep(Duration::from_millis(50));
    l.close();
    assert_eq!(t.join().unwrap().unwrap_err(), NotifyError::ListenerClosed);
  }

  #[test]
  fn filesystem_listener_removes_its_socket_file_on_close() {
    let dir = std::env::temp_dir().join(format!("sdn-{}", random_suffix()));
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("notify");
    let l = Listener::bind(Some(path.to_str().unwrap())).unwrap();
    assert!(path.exists());
    l.close();
    assert!(!path.exists());
    std::fs::remove_dir(&dir).unwrap();
  }
}
