//! Sending one entry to journald: a datagram when it fits, else a sealed memfd passed in an
//! empty datagram (as libsystemd does). Never waits unless asked to.

use std::io::{IoSlice, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::socket::{setsockopt, sockopt, MsgFlags, UnixAddr};

use crate::datagram::{DatagramSocket, SendFailure};
use crate::error::{NotifyError, Result};

/// libsystemd raises its send buffer to this, so most entries fit one datagram.
const SNDBUF: usize = 8 * 1024 * 1024;

/// Entries larger than this travel in a memfd even when a datagram could hold them: a few such
/// datagrams would fill journald's socket queue, a memfd costs it one descriptor.
pub const MEMFD_THRESHOLD: usize = 256 * 1024;

/// How long one waiting send may block before its caller looks around (the exit's deadline).
pub const WAIT_SLICE: Duration = Duration::from_millis(250);

/// What became of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
  /// The kernel took it: journald will read it.
  Sent,
  /// No journal listens here (no socket, nobody bound to it, a socket of another kind, no
  /// permission): nothing was sent. The errno says which.
  NoJournal(Errno),
  /// journald's queue is full right now: nothing was sent, try later.
  Full,
}

fn raise_sndbuf(fd: &OwnedFd) -> nix::Result<()> {
  // SO_SNDBUFFORCE needs CAP_NET_ADMIN; without it the plain option raises up to wmem_max.
  if setsockopt(fd, sockopt::SndBufForce, &SNDBUF).is_err() {
    let _ = setsockopt(fd, sockopt::SndBuf, &SNDBUF);
  }
  Ok(())
}

/// For the caller's thread: sends with MSG_DONTWAIT.
static IMMEDIATE: DatagramSocket = DatagramSocket::new(raise_sndbuf);

/// For the queue's thread: a send waits for room, one WAIT_SLICE at a time.
static WAITING: DatagramSocket = DatagramSocket::new(|fd| {
  raise_sndbuf(fd)?;
  let slice = nix::sys::time::TimeVal::new(0, WAIT_SLICE.as_micros() as _);
  setsockopt(fd, sockopt::SendTimeout, &slice)
});

/// Sends `entry` to `addr`; with `wait`, blocks up to WAIT_SLICE for room in journald's queue.
pub fn send(addr: &UnixAddr, entry: &[u8], wait: bool) -> Result<Delivery> {
  let (socket, flags) = if wait { (&WAITING, MsgFlags::empty()) } else { (&IMMEDIATE, MsgFlags::MSG_DONTWAIT) };
  if entry.len() > MEMFD_THRESHOLD {
    return send_memfd(socket, addr, entry, flags);
  }
  match socket.send(addr, &[IoSlice::new(entry)], &[], flags) {
    Ok(_) => Ok(Delivery::Sent),
    // Too large for one datagram: the memfd carries it.
    Err(SendFailure { errno: Errno::EMSGSIZE | Errno::ENOBUFS, .. }) => send_memfd(socket, addr, entry, flags),
    Err(failure) => classify(failure),
  }
}

/// One rule for every address that is not a journal: nothing sent, an outcome (never an error
/// thrown from a log call). EPROTOTYPE: a stream socket (or another kind) is bound there.
fn classify(failure: SendFailure) -> Result<Delivery> {
  match failure.errno {
    Errno::ENOENT | Errno::ECONNREFUSED | Errno::ENOTDIR | Errno::EPROTOTYPE | Errno::EACCES | Errno::EPERM | Errno::ENOTSOCK => {
      Ok(Delivery::NoJournal(failure.errno))
    }
    Errno::EAGAIN => Ok(Delivery::Full),
    _ => Err(failure.into()),
  }
}

/// An address as people write it: `/path` or `@abstract`.
pub fn describe(addr: &UnixAddr) -> String {
  match (addr.path(), addr.as_abstract()) {
    (Some(path), _) => path.display().to_string(),
    (None, Some(name)) => format!("@{}", String::from_utf8_lossy(name)),
    _ => "an unnamed socket".into(),
  }
}

/// `ENOENT (No such file or directory)`, for messages.
pub fn errno_text(errno: Errno) -> String {
  format!("{errno:?} ({})", errno.desc())
}

fn send_memfd(socket: &DatagramSocket, addr: &UnixAddr, entry: &[u8], flags: MsgFlags) -> Result<Delivery> {
  let memfd = sealed_memfd(entry)?;
  match socket.send(addr, &[], &[memfd.as_raw_fd()], flags) {
    Ok(_) => Ok(Delivery::Sent),
    Err(failure) => classify(failure),
  }
}

/// A memfd holding `data`, sealed against any change so journald may trust what it reads.
fn sealed_memfd(data: &[u8]) -> Result<OwnedFd> {
  let fd = memfd_create(c"journal-entry", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
    .map_err(|e| NotifyError::os("memfd_create", e))?;
  let mut file = std::fs::File::from(fd);
  file.write_all(data).map_err(|e| NotifyError::os("write to memfd", e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)))?;
  let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE | SealFlag::F_SEAL_SEAL;
  fcntl(&file, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| NotifyError::os("fcntl(F_ADD_SEALS)", e))?;
  Ok(OwnedFd::from(file))
}
