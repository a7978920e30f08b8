//! The protocol's verbs, one function each, in the manner of sd-daemon.c.
//! Each returns `Ok(false)` when not under a service manager, `Ok(true)` once queued.

use std::os::fd::RawFd;

use super::datagram::validate_fds;
use super::error::Result;
use super::message::Message;
use super::notify_socket::send_to_env;

/// Sends a built message with optional descriptors.
pub fn send_message(msg: Message, fds: &[RawFd]) -> Result<bool> {
  let datagram = msg.into_datagram()?;
  send_to_env(&datagram, fds)
}

fn flag_with_status(flag: &str, status: Option<&str>) -> Result<Message> {
  let mut msg = Message::new();
  msg.push(flag, "1")?;
  if let Some(s) = status {
    msg.push("STATUS", s)?;
  }
  Ok(msg)
}

/// READY=1 (+ STATUS=).
pub fn ready(status: Option<&str>) -> Result<bool> {
  send_message(flag_with_status("READY", status)?, &[])
}

/// RELOADING=1 + MONOTONIC_USEC=now (+ STATUS=): one datagram, as Type=notify-reload requires.
pub fn reloading(status: Option<&str>) -> Result<bool> {
  let mut msg = Message::new();
  msg.push("RELOADING", "1")?.push_u64("MONOTONIC_USEC", monotonic_usec())?;
  if let Some(s) = status {
    msg.push("STATUS", s)?;
  }
  send_message(msg, &[])
}

/// STOPPING=1 (+ STATUS=).
pub fn stopping(status: Option<&str>) -> Result<bool> {
  send_message(flag_with_status("STOPPING", status)?, &[])
}

/// A single assignment.
pub fn assign(key: &str, value: &str) -> Result<bool> {
  let mut msg = Message::new();
  msg.push(key, value)?;
  send_message(msg, &[])
}

/// A single numeric assignment.
pub fn assign_u64(key: &str, value: u64) -> Result<bool> {
  let mut msg = Message::new();
  msg.push_u64(key, value)?;
  send_message(msg, &[])
}

/// FDSTORE=1 with `fd` (+ FDNAME=, + FDPOLL=0 when `poll` is false): the manager keeps a copy
/// across restarts (needs FileDescriptorStoreMax= > 0, or it is dropped silently) and passes it to
/// the next process through LISTEN_FDS. The fd and name are checked even when not under a manager,
/// so a mistake shows up before deployment.
pub fn fd_store(fd: RawFd, name: Option<&str>, poll: bool) -> Result<bool> {
  validate_fds(&[fd])?;
  let mut msg = Message::new();
  msg.push("FDSTORE", "1")?;
  if let Some(name) = name {
    msg.push("FDNAME", name)?;
  }
  if !poll {
    msg.push("FDPOLL", "0")?;
  }
  send_message(msg, &[fd])
}

/// FDSTOREREMOVE=1 + FDNAME=: the manager closes its stored fds of that name.
pub fn fd_store_remove(name: &str) -> Result<bool> {
  let mut msg = Message::new();
  msg.push("FDSTOREREMOVE", "1")?.push("FDNAME", name)?;
  send_message(msg, &[])
}

/// CLOCK_MONOTONIC in microseconds: the clock systemd compares MONOTONIC_USEC against.
pub fn monotonic_usec() -> u64 {
  let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
  // SAFETY: ts is a valid timespec; CLOCK_MONOTONIC always exists on Linux.
  unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
  (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

#[cfg(test)]
mod tests {
  use super::*;

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
