//! Which descriptor a journal receiver may read, by journald's rules (journald-native.c): a
//! regular file only (a memfd is one), at most a size cap; a memfd sealed against writes and size
//! changes from anyone; an unsealed file only from root, or when it sits directly in /dev/shm/,
//! /tmp/ or /var/tmp/. Anything else (a pipe, a socket, /dev/zero, a FIFO, a directory) is refused
//! before a byte is read: reading it could block forever or never end.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag, SealFlag};
use nix::sys::stat::{fstat, SFlag};
use nix::sys::uio::pread;

use super::error::{NotifyError, Result};

/// The default cap on what one passed file may hold (journald's own is 768 MiB, a stand-in
/// for tests needs far less).
pub const DEFAULT_MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The seals that make a memfd's content final: no writes, no shrinking, no growing.
const SEALED: SealFlag = SealFlag::F_SEAL_WRITE.union(SealFlag::F_SEAL_SHRINK).union(SealFlag::F_SEAL_GROW);

/// What a passed descriptor is, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
  pub regular: bool,
  pub sealed: bool,
  pub size: u64,
}

/// The rules, without the descriptor: `Ok(())` when a file of `kind` at `path` (its
/// /proc/self/fd link) from `uid` may be read with `max` bytes at most.
pub fn check(kind: Kind, path: &[u8], uid: u32, max: u64) -> std::result::Result<(), String> {
  if !kind.regular {
    return Err("it is not a regular file or memfd (a pipe, socket or device could be read forever)".into());
  }
  if kind.size > max {
    return Err(format!("it holds {} bytes, more than the {max} allowed (maxEntryBytes)", kind.size));
  }
  if !kind.sealed && uid != 0 && !in_shared_directory(path) {
    return Err("an unsealed file from a non-root sender must sit directly in /dev/shm/, /tmp/ or /var/tmp/ (seal a memfd with F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW)".into());
  }
  Ok(())
}

/// Directly in one of the world-writable directories journald accepts, not in a subdirectory.
fn in_shared_directory(path: &[u8]) -> bool {
  [&b"/dev/shm/"[..], b"/tmp/", b"/var/tmp/"].iter().any(|dir| {
    path.strip_prefix(*dir).is_some_and(|name| !name.is_empty() && !name.contains(&b'/') && name != b"." && name != b"..")
  })
}

fn kind_of(fd: &OwnedFd) -> nix::Result<Kind> {
  let st = fstat(fd)?;
  // EINVAL for files that cannot be sealed: not sealed.
  let seals = fcntl(fd, FcntlArg::F_GET_SEALS).map(SealFlag::from_bits_retain);
  Ok(Kind {
    regular: SFlag::from_bits_retain(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG,
    sealed: seals.is_ok_and(|seals| seals.contains(SEALED)),
    size: u64::try_from(st.st_size).unwrap_or(0),
  })
}

/// Reads the entry in `fd`, passed by `uid`, if the rules allow; otherwise (and on a read error)
/// ERR_SD_NOTIFY_INVALID_FD naming the reason. The descriptor is closed either way.
pub fn read_entry(fd: OwnedFd, pid: i32, uid: u32, max: u64) -> Result<Vec<u8>> {
  let refuse = |reason: String| NotifyError::InvalidFd {
    reason: format!("refused the descriptor passed by pid {pid} (uid {uid}): {reason}"),
  };
  let kind = kind_of(&fd).map_err(|e| refuse(format!("fstat failed: {}", std::io::Error::from(e))))?;
  let path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
  check(kind, std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()), uid, max).map_err(refuse)?;
  // Non-blocking: a regular file's read then never waits on a mandatory lock (journald does
  // the same).
  let _ = fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
  // The size was checked, but an unsealed file can grow meanwhile: never read past the cap.
  let len = usize::try_from(kind.size).map_err(|_| refuse("too large".into()))?;
  let mut data = vec![0u8; len];
  let mut filled = 0;
  while filled < len {
    // pread from 0: the sender's writes left the shared offset at the end.
    match pread(&fd, &mut data[filled..], filled as libc::off_t) {
      Ok(0) => break,
      Ok(n) => filled += n,
      Err(Errno::EINTR) => {}
      Err(e) => return Err(refuse(format!("could not read it: {}", std::io::Error::from(e)))),
    }
  }
  data.truncate(filled);
  Ok(data)
}

#[cfg(test)]
mod tests {
  use super::*;

  const SEALED_MEMFD: Kind = Kind { regular: true, sealed: true, size: 10 };

  #[test]
  fn only_regular_files_are_read() {
    let pipe = Kind { regular: false, sealed: false, size: 0 };
    assert!(check(pipe, b"pipe:[1234]", 0, u64::MAX).unwrap_err().contains("not a regular file"));
    assert!(check(pipe, b"/dev/zero", 1000, u64::MAX).is_err());
    assert_eq!(check(SEALED_MEMFD, b"/memfd:x (deleted)", 1000, 10), Ok(()));
  }

  #[test]
  fn the_size_cap_holds_for_everyone_and_is_inclusive() {
    let big = Kind { size: 11, ..SEALED_MEMFD };
    assert!(check(big, b"/memfd:x (deleted)", 0, 10).unwrap_err().contains("11 bytes, more than the 10 allowed"));
    assert_eq!(check(SEALED_MEMFD, b"/memfd:x (deleted)", 0, 10), Ok(()));
  }

  #[test]
  fn unsealed_files_from_non_root_only_directly_in_the_shared_directories() {
    let unsealed = Kind { sealed: false, ..SEALED_MEMFD };
    assert!(check(unsealed, b"/memfd:x (deleted)", 1000, 10).is_err());
    assert_eq!(check(unsealed, b"/memfd:x (deleted)", 0, 10), Ok(()), "root is trusted, as by journald");
    for ok in [&b"/tmp/entry"[..], b"/dev/shm/e", b"/var/tmp/x (deleted)"] {
      assert_eq!(check(unsealed, ok, 1000, 10), Ok(()), "{}", String::from_utf8_lossy(ok));
    }
    for bad in [&b"/tmp/"[..], b"/tmp/sub/entry", b"/tmp/..", b"/home/u/entry", b"/tmpx/entry", b"/etc/shadow"] {
      assert!(check(unsealed, bad, 1000, 10).is_err(), "{}", String::from_utf8_lossy(bad));
    }
  }

  #[test]
  fn read_entry_reads_a_sealed_memfd_and_refuses_dev_zero() {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    use std::io::Write;
    let fd = memfd_create(c"t", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING).unwrap();
    let mut file = std::fs::File::from(fd);
    file.write_all(b"MESSAGE=hi\n").unwrap();
    assert_eq!(fcntl(&file, FcntlArg::F_ADD_SEALS(SEALED)), Ok(0));
    assert_eq!(read_entry(file.into(), 1, 1000, 100).unwrap(), b"MESSAGE=hi\n");
    let zero = std::fs::File::open("/dev/zero").unwrap();
    assert_eq!(read_entry(zero.into(), 1, 1000, 100).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  }
}
