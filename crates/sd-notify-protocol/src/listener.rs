//! A stand-in for the service manager's notification socket: binds an AF_UNIX datagram socket
//! with SO_PASSCRED and receives notifications with the sender's credentials and passed fds.

use std::collections::{HashMap, HashSet};
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
  bind, recv, recvmsg, setsockopt, shutdown, socket, sockopt, AddressFamily, ControlMessageOwned, MsgFlags, Shutdown, SockFlag,
  SockType, UnixAddr,
};

use super::address::{self, NotifyAddress};
use super::datagram::MAX_FDS;
use super::error::{NotifyError, Result};

/// One received notification.
#[derive(Debug)]
pub struct Received {
  pub data: Vec<u8>,
  pub pid: i32,
  pub uid: u32,
  pub gid: u32,
  /// Descriptors received (close-on-exec), owned from the moment they arrived: dropping the
  /// notification closes them, unless they were handed on (`into_raw_fd`).
  pub fds: Vec<OwnedFd>,
}

#[derive(Debug)]
pub struct Listener {
  /// `None` once closed.
  fd: RwLock<Option<OwnedFd>>,
  address: String,
  unlink_on_close: Option<PathBuf>,
  closed: AtomicBool,
  /// Descriptors handed to the caller ([`Listener::keep_received`]) and not yet closed by
  /// [`Listener::close_received`], with the identity of the file each one was then. The caller
  /// may close one by other means; its number, reused by the kernel, then replaces the entry
  /// when it arrives here again, so the map holds at most one entry per descriptor number.
  received: Mutex<HashMap<RawFd, FileId>>,
  /// The poller's owner tag for this listener's pending receives.
  id: u64,
  /// The descriptor's number for the poller (-1 once closed), read without the lock.
  raw: AtomicI32,
  options: ListenerOptions,
  /// Datagrams dropped because their sender's uid was not `options.uid`.
  refused: AtomicU64,
}

/// Which file a descriptor is open on (st_dev, st_ino): a number closed and reused for another
/// file no longer matches.
type FileId = (u64, u64);

// dev_t and ino_t are narrower than u64 on some 32-bit targets: the casts are needed there.
#[allow(clippy::unnecessary_cast)]
fn file_id(fd: RawFd) -> Option<FileId> {
  // SAFETY: borrowed for this fstat(2) only; a closed number fails with EBADF, nothing else.
  let st = nix::sys::stat::fstat(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }).ok()?;
  Some((st.st_dev as u64, st.st_ino as u64))
}

/// What a listener accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListenerOptions {
  /// Only datagrams whose sender (SO_PASSCRED) has this uid; others are dropped unread, and the
  /// descriptors they carry closed.
  pub uid: Option<u32>,
}

/// Listener ids for the poller's owner tags: above any pointer (environments are tagged by
/// their address), so the two never collide.
static NEXT_ID: AtomicU64 = AtomicU64::new(1 << 62);

/// At most this many datagrams from strangers are dropped per call: a flood cannot keep one
/// call (and the poller thread) busy forever.
const MAX_DROPPED_PER_CALL: usize = 64;

fn random_suffix() -> u64 {
  let mut buf = [0u8; 8];
  // libc: nix has no getrandom wrapper.
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
  #[cfg(test)]
  pub fn bind(address: Option<&str>) -> Result<Self> {
    Self::bind_with(address, ListenerOptions::default())
  }

  /// [`Listener::bind`] with options.
  pub fn bind_with(address: Option<&str>, options: ListenerOptions) -> Result<Self> {
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
      raw: AtomicI32::new(fd.as_raw_fd()),
      fd: RwLock::new(Some(fd)),
      address,
      unlink_on_close,
      closed: AtomicBool::new(false),
      received: Mutex::new(HashMap::new()),
      id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
      options,
      refused: AtomicU64::new(0),
    })
  }

  /// The value to put in NOTIFY_SOCKET.
  pub fn address(&self) -> &str {
    &self.address
  }

  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::Acquire)
  }

  /// The poller's owner tag of this listener's waits.
  pub fn id(&self) -> u64 {
    self.id
  }

  /// The descriptor to poll (-1 once closed: the poller skips it).
  pub fn raw_fd(&self) -> RawFd {
    self.raw.load(Ordering::Acquire)
  }

  /// Datagrams dropped so far because of `options.uid`.
  pub fn refused(&self) -> u64 {
    self.refused.load(Ordering::Relaxed)
  }

  /// The next datagram if one is waiting, without waiting (`Ok(None)`: none now). Datagrams from
  /// a uid other than `options.uid` are dropped, with their descriptors, and not counted as one.
  pub fn try_next(&self) -> Result<Option<Received>> {
    // Held while this thread uses the descriptor: close() takes it exclusively to close it.
    let guard = self.fd.read().unwrap_or_else(|p| p.into_inner());
    let fd = match guard.as_ref() {
      Some(fd) if !self.is_closed() => fd.as_raw_fd(),
      _ => return Err(NotifyError::ListenerClosed),
    };
    for _ in 0..MAX_DROPPED_PER_CALL {
      let r = match try_receive(fd) {
        Ok(r) => r,
        Err(NotifyError::Os { errno: Errno::EAGAIN, .. }) => return Ok(None),
        Err(e) => return Err(e),
      };
      if self.options.uid.is_some_and(|uid| uid != r.uid) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        drop(r); // its descriptors closed unread
        continue;
      }
      return Ok(Some(r));
    }
    Ok(None)
  }

  /// Waits on this thread for the next datagram (`None`: forever); the binding waits with the
  /// poller instead. Safe to call from several threads at once: each datagram goes to exactly
  /// one caller.
  #[cfg(test)]
  pub fn receive(&self, timeout: Option<Duration>) -> Result<Received> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
      if let Some(r) = self.try_next()? {
        return Ok(r);
      }
      let left = match deadline {
        Some(d) => {
          let left = d.saturating_duration_since(std::time::Instant::now());
          if left.is_zero() {
            return Err(receive_timeout(timeout.unwrap_or_default()));
          }
          left
        }
        None => Duration::from_secs(3600),
      };
      // Polled under the read guard, as try_next reads: close() shuts the socket down (which
      // wakes this poll) before it takes the guard exclusively to close the descriptor.
      let guard = self.fd.read().unwrap_or_else(|p| p.into_inner());
      let Some(fd) = guard.as_ref() else { return Err(NotifyError::ListenerClosed) };
      match super::datagram::poll_until(
        std::os::fd::AsFd::as_fd(fd),
        nix::poll::PollFlags::POLLIN,
        left,
        "NotifyListener.receive",
      ) {
        Ok(()) | Err(NotifyError::Timeout { .. }) => {}
        Err(e) => return Err(e),
      }
    }
  }

  /// Records `fds` (just received, now handed to the caller) as ones [`close_received`] may
  /// close. Only for descriptors the caller gets: a journal entry's are closed once read.
  pub fn keep_received(&self, fds: &[RawFd]) {
    let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
    for &fd in fds {
      match file_id(fd) {
        Some(id) => received.insert(fd, id),
        None => received.remove(&fd),
      };
    }
  }

  /// Closes descriptors this listener received, with close(2) itself: for runtimes whose own
  /// `close` knows only the descriptors they opened (Deno). All are checked first: one that did
  /// not arrive here, was closed by this already, or was closed otherwise (its number now on
  /// another file, or on none) is ERR_SD_NOTIFY_INVALID_FD and nothing is closed.
  pub fn close_received(&self, fds: &[RawFd]) -> Result<()> {
    let mut received = self.received.lock().unwrap_or_else(|p| p.into_inner());
    let mut seen = HashSet::new();
    for fd in fds {
      let reason = if !seen.insert(*fd) {
        "it is listed twice"
      } else if !received.contains_key(fd) {
        "it did not arrive at this listener, or was closed already"
      } else if received.get(fd).copied() != file_id(*fd) {
        // Closed by other means (fs.closeSync): forgotten, and whatever has the number now is
        // not ours to close.
        received.remove(fd);
        "it was closed already (its number is not the file that arrived)"
      } else {
        continue;
      };
      return Err(NotifyError::InvalidFd { reason: format!("cannot close {fd}: {reason}") });
    }
    let mut first_error = None;
    for fd in fds {
      received.remove(fd);
      // SAFETY: `fd` arrived with a message (SCM_RIGHTS), still names the file that arrived (its
      // identity checked above, under the lock) and belongs to the caller, who hands it back here
      // to be closed: this takes ownership of it; it was forgotten (above) before anything else
      // can reuse its number.
      let owned = unsafe { OwnedFd::from_raw_fd(*fd) };
      // close(2) through nix, not a drop: its error is reported.
      if let Err(errno) = nix::unistd::close(owned) {
        first_error.get_or_insert(NotifyError::os("close", errno));
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
    self.raw.store(-1, Ordering::Release);
    // Pending waits on the poller settle now (ERR_SD_NOTIFY_LISTENER_CLOSED).
    super::poller::cancel(self.id);
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

/// ETIMEDOUT for a receive that waited `timeout` in vain.
pub fn receive_timeout(timeout: Duration) -> NotifyError {
  NotifyError::Timeout { what: "NotifyListener.receive", ms: timeout.as_millis() as u64, hint: ": no notification arrived" }
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
    if msg.flags.contains(MsgFlags::MSG_CTRUNC) {
      // Not every descriptor could be installed (this process at RLIMIT_NOFILE, or refused by a
      // security module): the datagram is taken, nix will not read truncated control data, and
      // the descriptors that did arrive are this process's all the same. Closed, not leaked.
      close_truncated_rights(&mut cmsg);
      return Err(NotifyError::os("recvmsg control data", Errno::ENOBUFS));
    }
    let (mut pid, mut uid, mut gid, mut fds) = (0, 0, 0, Vec::new());
    for c in msg.cmsgs().map_err(|e| NotifyError::os("recvmsg control data", e))? {
      match c {
        ControlMessageOwned::ScmCredentials(cred) => {
          pid = cred.pid();
          uid = cred.uid();
          gid = cred.gid();
        }
        ControlMessageOwned::ScmRights(received) => {
          // SAFETY: SCM_RIGHTS installed these descriptors in this process just now, and nobody
          // else holds them: owned from here on.
          fds.extend(received.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }))
        }
        _ => {}
      }
    }
    (msg.bytes, pid, uid, gid, fds)
  };
  buf.truncate(len);
  Ok(Received { data: buf, pid, uid, gid, fds })
}

/// Closes the descriptors of every SCM_RIGHTS message in `control`, the control data of a
/// recvmsg(2) that set MSG_CTRUNC. The kernel writes whole headers only (each SCM_RIGHTS one
/// counting the descriptors it installed), and the rest of the buffer is still zero, where the
/// walk stops.
fn close_truncated_rights(control: &mut [u8]) {
  // SAFETY: an all-zero msghdr is a valid value (integers and null pointers).
  let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
  hdr.msg_control = control.as_mut_ptr().cast();
  hdr.msg_controllen = control.len() as _;
  // SAFETY: the CMSG_* macros walk `control` through `hdr`, never past msg_controllen; each
  // header is read unaligned (a Vec<u8> promises no alignment), and each descriptor an
  // SCM_RIGHTS header counts was installed in this process by that call and is owned by nobody.
  unsafe {
    let mut c = libc::CMSG_FIRSTHDR(&hdr);
    while !c.is_null() {
      let head = std::ptr::read_unaligned(c);
      if head.cmsg_level == libc::SOL_SOCKET && head.cmsg_type == libc::SCM_RIGHTS {
        let data = libc::CMSG_DATA(c);
        let count = (head.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
        for i in 0..count {
          let fd = std::ptr::read_unaligned(data.add(i * std::mem::size_of::<RawFd>()).cast::<RawFd>());
          drop(OwnedFd::from_raw_fd(fd));
        }
      }
      c = libc::CMSG_NXTHDR(&hdr, c);
    }
  }
}

impl Drop for Listener {
  fn drop(&mut self) {
    self.close();
  }
}

#[cfg(test)]
#[path = "listener_tests.rs"]
mod tests;
