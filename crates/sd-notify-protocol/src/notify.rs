//! The protocol's verbs, in the manner of sd-daemon.c: a notification is a list of typed
//! assignments. Each returns `Ok(false)` when not under a service manager, `Ok(true)` once queued.

use std::os::fd::RawFd;

use super::assignment::Assignment;
use super::datagram::validate_fds;
use super::error::Result;
use super::message::Message;
use super::notify_socket::send_to_env;

/// Sends `assignments` as one datagram, with optional descriptors.
pub fn send(assignments: &[Assignment<'_>], fds: &[RawFd]) -> Result<bool> {
  // A lone flag (WATCHDOG=1, READY=1, ...) is a constant datagram: nothing to build or check.
  if let ([only], []) = (assignments, fds) {
    if let Some(datagram) = only.constant() {
      return send_to_env(datagram, &[]);
    }
  }
  let mut msg = Message::new();
  for a in assignments {
    msg.add(*a)?;
  }
  send_message(&msg, fds)
}

/// Sends a built message with optional descriptors.
pub fn send_message(msg: &Message, fds: &[RawFd]) -> Result<bool> {
  send_to_env(msg.datagram()?, fds)
}

/// `flag` (+ STATUS=).
fn with_status(flag: Assignment<'_>, status: Option<&str>) -> Result<bool> {
  match status {
    Some(s) => send(&[flag, Assignment::Status(s)], &[]),
    None => send(&[flag], &[]),
  }
}

/// READY=1 (+ STATUS=).
pub fn ready(status: Option<&str>) -> Result<bool> {
  with_status(Assignment::Ready, status)
}

/// RELOADING=1 + MONOTONIC_USEC=now (+ STATUS=): one datagram, as Type=notify-reload requires.
pub fn reloading(status: Option<&str>) -> Result<bool> {
  let now = Assignment::MonotonicUsec(monotonic_usec());
  match status {
    Some(s) => send(&[Assignment::Reloading, now, Assignment::Status(s)], &[]),
    None => send(&[Assignment::Reloading, now], &[]),
  }
}

/// STOPPING=1 (+ STATUS=).
pub fn stopping(status: Option<&str>) -> Result<bool> {
  with_status(Assignment::Stopping, status)
}

/// FDSTORE=1 with `fd` (+ FDNAME=, + FDPOLL=0 when `poll` is false): the manager keeps a copy
/// across restarts (needs FileDescriptorStoreMax= > 0, or it is dropped silently) and passes it to
/// the next process through LISTEN_FDS. The fd and name are checked even when not under a manager,
/// so a mistake shows up before deployment.
pub fn fd_store(fd: RawFd, name: Option<&str>, poll: bool) -> Result<bool> {
  validate_fds(&[fd])?;
  let mut msg = Message::new();
  msg.add(Assignment::FdStore)?;
  if let Some(name) = name {
    msg.add(Assignment::FdName(name))?;
  }
  if !poll {
    msg.add(Assignment::FdPoll(false))?;
  }
  send_message(&msg, &[fd])
}

/// FDSTOREREMOVE=1 + FDNAME=: the manager closes its stored fds of that name.
pub fn fd_store_remove(name: &str) -> Result<bool> {
  send(&[Assignment::FdStoreRemove, Assignment::FdName(name)], &[])
}

/// CLOCK_MONOTONIC in microseconds: the clock systemd compares MONOTONIC_USEC against.
pub fn monotonic_usec() -> u64 {
  use nix::time::{clock_gettime, ClockId};
  // CLOCK_MONOTONIC exists on every Linux: no error to report (0 would only make the manager
  // reject MONOTONIC_USEC, never crash anything).
  let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
  (ts.tv_sec() as u64) * 1_000_000 + (ts.tv_nsec() as u64) / 1_000
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_constant_datagram_is_what_the_message_would_build() {
    use Assignment::*;
    for a in [Ready, Reloading, Stopping, Watchdog, WatchdogTrigger, FdStore, FdStoreRemove, Barrier, FdPoll(true), FdPoll(false)]
    {
      let mut msg = Message::new();
      msg.add(a).unwrap();
      if let Some(constant) = a.constant() {
        assert_eq!(constant, msg.datagram().unwrap(), "{a:?}");
      }
    }
    assert_eq!(Status("x").constant(), None);
  }

  #[test]
  fn fd_store_refuses_bad_names_and_descriptors_before_looking_for_a_manager() {
    let stdin = 0;
    for bad in ["", "a:b", "tab\there", "new\nline", "nul\0", "ü"] {
      assert_eq!(fd_store(stdin, Some(bad), true).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FDNAME", "{bad:?}");
      assert_eq!(fd_store_remove(bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FDNAME", "{bad:?}");
    }
    assert_eq!(fd_store(-1, None, true).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
    assert_eq!(fd_store(1_000_000, None, true).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  }
}
