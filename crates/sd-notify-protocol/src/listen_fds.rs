//! sd_listen_fds_with_names: the descriptors the service manager passed at exec time (socket
//! activation or the fd store), with their names.
//!
//! [`parse`] is the environment parsing alone (no descriptor is touched), driven by a lookup
//! closure so every rule is unit-tested; [`take`] applies it to this process: sets FD_CLOEXEC,
//! remembers what it handed out, optionally unsets the variables.

use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use super::env;
use super::error::{NotifyError, Result};
use super::sync::lock;

/// The first passed descriptor (SD_LISTEN_FDS_START); the others follow without gaps.
pub const LISTEN_FDS_START: RawFd = 3;

/// The kernel's ceiling on open descriptors per process (fs.nr_open's default and systemd's
/// RLIMIT_NOFILE hard limit): no manager can pass more.
pub const LISTEN_FDS_MAX: i32 = 1 << 20;

/// The variables the manager sets for a socket-activated or fd-store process.
pub const LISTEN_VARIABLES: [&str; 4] = ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"];

/// The name of a descriptor when `LISTEN_FDNAMES` is absent.
pub const UNKNOWN_NAME: &str = "unknown";

/// One passed descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenFd {
  pub fd: RawFd,
  /// `FileDescriptorName=` of the socket unit, or `FDNAME=` of the fd store; `unknown` when unnamed.
  pub name: String,
}

/// Reads `LISTEN_PID`, `LISTEN_PIDFDID`, `LISTEN_FDS` and `LISTEN_FDNAMES` through `lookup`, for
/// the process `own_pid` whose pidfd inode id `own_pidfd_id` returns (`None`: pidfds or pidfs
/// unsupported, then `LISTEN_PIDFDID` is parsed but not compared, as libsystemd does).
///
/// `Ok(vec![])` when nothing was passed to this process: `LISTEN_PID` or `LISTEN_FDS` unset,
/// `LISTEN_PID` or `LISTEN_PIDFDID` naming another process. Errors when a variable does not
/// parse, `LISTEN_FDS` is not positive or overflows, or `LISTEN_FDNAMES` has a different count.
pub fn parse(
  lookup: impl Fn(&str) -> Option<OsString>,
  own_pid: u32,
  own_pidfd_id: impl FnOnce() -> Option<u64>,
) -> Result<Vec<ListenFd>> {
  let Some(raw_pid) = lookup("LISTEN_PID") else { return Ok(Vec::new()) };
  let text = env::text("LISTEN_PID", &raw_pid)?;
  let pid: u32 = env::decimal_var("LISTEN_PID", text, "a process id")?;
  if pid == 0 || pid > i32::MAX as u32 {
    return Err(NotifyError::InvalidEnvironment { name: "LISTEN_PID", reason: format!("{pid} is not a process id") });
  }
  // Inherited through a fork or an exec we did not expect: these fds are someone else's.
  if pid != own_pid {
    return Ok(Vec::new());
  }

  if let Some(raw_id) = lookup("LISTEN_PIDFDID") {
    let text = env::text("LISTEN_PIDFDID", &raw_id)?;
    let id: u64 = env::decimal_var("LISTEN_PIDFDID", text, "a pidfd inode id")?;
    // A recycled pid passes the LISTEN_PID check; the pidfd inode id (systemd >= 258) does not.
    if own_pidfd_id().is_some_and(|own| own != id) {
      return Ok(Vec::new());
    }
  }

  let Some(raw_fds) = lookup("LISTEN_FDS") else { return Ok(Vec::new()) };
  let text = env::text("LISTEN_FDS", &raw_fds)?;
  let count: i32 = env::decimal_var("LISTEN_FDS", text, "a positive number of descriptors")?;
  if count <= 0 || count > i32::MAX - LISTEN_FDS_START {
    return Err(NotifyError::InvalidEnvironment {
      name: "LISTEN_FDS",
      reason: format!("{count} is not a positive number of descriptors starting at fd {LISTEN_FDS_START}"),
    });
  }
  // Found by fuzzing: a huge count (say 666666666) made the name list alone gigabytes. No process
  // can hold more descriptors than the kernel's fs.nr_open ceiling, so more is malformed.
  if count > LISTEN_FDS_MAX {
    return Err(NotifyError::InvalidEnvironment {
      name: "LISTEN_FDS",
      reason: format!("{count} descriptors is more than a process can have open (at most {LISTEN_FDS_MAX})"),
    });
  }
  let count_usize = count as usize;

  let names: Vec<String> = match lookup("LISTEN_FDNAMES") {
    None => vec![UNKNOWN_NAME.to_owned(); count_usize],
    Some(raw) => {
      let text = env::text("LISTEN_FDNAMES", &raw)?;
      // Like libsystemd: empty fields are kept ("a::b" is three names), an empty value has none.
      let names: Vec<String> = if text.is_empty() { Vec::new() } else { text.split(':').map(str::to_owned).collect() };
      if names.len() != count_usize {
        return Err(NotifyError::InvalidEnvironment {
          name: "LISTEN_FDNAMES",
          reason: format!("it names {} descriptors but LISTEN_FDS={count}", names.len()),
        });
      }
      names
    }
  };

  Ok(names.into_iter().zip(LISTEN_FDS_START..).map(|(name, fd)| ListenFd { fd, name }).collect())
}

/// The inode id of a pidfd of this process: unique per process on pidfs (Linux >= 6.9), where it
/// is what systemd puts in LISTEN_PIDFDID. `None` when pidfd_open or pidfs is unavailable (before
/// pidfs, every pidfd shares one anonymous inode, so its number identifies nothing).
pub fn own_pidfd_id() -> Option<u64> {
  const PID_FS_MAGIC: i64 = 0x5049_4446;
  // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
  let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
  let raw = RawFd::try_from(raw).ok().filter(|fd| *fd >= 0)?;
  // SAFETY: pidfd_open just returned this descriptor; nobody else owns it.
  let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
  let fs = nix::sys::statfs::fstatfs(&pidfd).ok()?;
  #[allow(clippy::unnecessary_cast)] // f_type's width differs between architectures
  if fs.filesystem_type().0 as i64 != PID_FS_MAGIC {
    return None;
  }
  let st = nix::sys::stat::fstat(&pidfd).ok()?;
  // On 32-bit ino_t the id is truncated and systemd itself refuses to use it.
  #[allow(clippy::unnecessary_cast)] // ino_t is not 64 bits everywhere
  let ino = st.st_ino as u64;
  (std::mem::size_of::<libc::ino_t>() == 8).then_some(ino)
}

fn set_cloexec(fd: RawFd) -> Result<()> {
  use nix::fcntl::{fcntl, FcntlArg, FdFlag};
  // SAFETY: LISTEN_FDS promised this descriptor to the process and nothing closes it during this
  // call; the borrow only hands its number to fcntl, which reports EBADF if it was never open.
  let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
  let flags =
    fcntl(fd, FcntlArg::F_GETFD).map_err(|e| NotifyError::os("fcntl(F_GETFD) on a descriptor LISTEN_FDS promised", e))?;
  let flags = FdFlag::from_bits_truncate(flags);
  if !flags.contains(FdFlag::FD_CLOEXEC) {
    fcntl(fd, FcntlArg::F_SETFD(flags | FdFlag::FD_CLOEXEC)).map_err(|e| NotifyError::os("fcntl(F_SETFD, FD_CLOEXEC)", e))?;
  }
  Ok(())
}

/// What [`take`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
  pub fds: Vec<ListenFd>,
  /// An earlier call of this process already handed these descriptors out.
  pub taken_before: bool,
}

/// The descriptors handed out so far: they are this process's once, whatever the environment
/// says later (it may have been unset, or changed by code that should not have).
static HANDED_OUT: Mutex<Option<Vec<ListenFd>>> = Mutex::new(None);

/// sd_listen_fds_with_names for this process. The first call that finds descriptors sets
/// FD_CLOEXEC on them (children must not inherit them by accident) and remembers them; every
/// later call returns the same list with `taken_before` set, without reading the environment,
/// so no descriptor is ever handed out twice as new. With `unset_environment` the variables are
/// removed afterwards, whatever the outcome (as libsystemd does).
pub fn take(unset_environment: bool) -> Result<Taken> {
  let mut handed_out = lock(&HANDED_OUT);
  let outcome = match handed_out.as_ref() {
    Some(fds) => Ok(Taken { fds: fds.clone(), taken_before: true }),
    None => parse(env::lookup, std::process::id(), own_pidfd_id).and_then(|fds| {
      fds.iter().try_for_each(|f| set_cloexec(f.fd))?;
      if !fds.is_empty() {
        *handed_out = Some(fds.clone());
      }
      Ok(Taken { fds, taken_before: false })
    }),
  };
  if unset_environment {
    for name in LISTEN_VARIABLES {
      std::env::remove_var(name);
    }
  }
  outcome
}

#[cfg(test)]
#[path = "listen_fds_tests.rs"]
mod tests;
