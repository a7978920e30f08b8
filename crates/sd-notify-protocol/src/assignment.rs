//! The protocol's assignments as typed values: a notification is built from these, never from
//! key strings at call sites. `Other` carries the keys `notify()` passes through (checked by
//! [`Message::push`](super::message::Message::push) like every other).

use std::borrow::Cow;

/// One `KEY=value` line of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment<'a> {
  /// `READY=1`: start-up finished.
  Ready,
  /// `RELOADING=1`: reloading until the next `READY=1`.
  Reloading,
  /// `STOPPING=1`: shutting down.
  Stopping,
  /// `STATUS=`: free text for `systemctl status`.
  Status(&'a str),
  /// `WATCHDOG=1`: a keep-alive ping.
  Watchdog,
  /// `WATCHDOG=trigger`: fail now as if the watchdog expired.
  WatchdogTrigger,
  /// `WATCHDOG_USEC=`: a new watchdog timeout.
  WatchdogUsec(u64),
  /// `EXTEND_TIMEOUT_USEC=`: more time for the current start/stop timeout.
  ExtendTimeoutUsec(u64),
  /// `MONOTONIC_USEC=`: CLOCK_MONOTONIC at the moment of `RELOADING=1`.
  MonotonicUsec(u64),
  /// `MAINPID=`: the main process changed.
  MainPid(u64),
  /// `ERRNO=`: an errno-style failure code.
  Errno(u64),
  /// `BUSERROR=`: a D-Bus error name.
  BusError(&'a str),
  /// `FDSTORE=1`: keep the passed descriptors.
  FdStore,
  /// `FDSTOREREMOVE=1`: drop the stored descriptors named by `FDNAME=`.
  FdStoreRemove,
  /// `FDNAME=`: the name of stored descriptors.
  FdName(&'a str),
  /// `FDPOLL=0|1`: whether the manager drops a stored descriptor that hangs up.
  FdPoll(bool),
  /// `BARRIER=1`: alone, with one descriptor the manager closes once it processed everything before.
  Barrier,
  /// Any other assignment (`notify()`'s unknown and private `X_` keys).
  Other(&'a str, &'a str),
}

impl<'a> Assignment<'a> {
  pub fn key(&self) -> &'a str {
    match self {
      Self::Ready => "READY",
      Self::Reloading => "RELOADING",
      Self::Stopping => "STOPPING",
      Self::Status(_) => "STATUS",
      Self::Watchdog | Self::WatchdogTrigger => "WATCHDOG",
      Self::WatchdogUsec(_) => "WATCHDOG_USEC",
      Self::ExtendTimeoutUsec(_) => "EXTEND_TIMEOUT_USEC",
      Self::MonotonicUsec(_) => "MONOTONIC_USEC",
      Self::MainPid(_) => "MAINPID",
      Self::Errno(_) => "ERRNO",
      Self::BusError(_) => "BUSERROR",
      Self::FdStore => "FDSTORE",
      Self::FdStoreRemove => "FDSTOREREMOVE",
      Self::FdName(_) => "FDNAME",
      Self::FdPoll(_) => "FDPOLL",
      Self::Barrier => "BARRIER",
      Self::Other(key, _) => key,
    }
  }

  /// The whole datagram of this assignment alone when it never varies (the flags and the
  /// watchdog's two), so sending it needs no building.
  pub fn constant(&self) -> Option<&'static [u8]> {
    Some(match self {
      Self::Ready => b"READY=1",
      Self::Reloading => b"RELOADING=1",
      Self::Stopping => b"STOPPING=1",
      Self::Watchdog => b"WATCHDOG=1",
      Self::WatchdogTrigger => b"WATCHDOG=trigger",
      _ => return None,
    })
  }

  pub fn value(&self) -> Cow<'a, str> {
    match *self {
      Self::Ready | Self::Reloading | Self::Stopping | Self::Watchdog | Self::FdStore | Self::FdStoreRemove | Self::Barrier => {
        Cow::Borrowed("1")
      }
      Self::WatchdogTrigger => Cow::Borrowed("trigger"),
      Self::FdPoll(poll) => Cow::Borrowed(if poll { "1" } else { "0" }),
      Self::Status(s) | Self::BusError(s) | Self::FdName(s) | Self::Other(_, s) => Cow::Borrowed(s),
      Self::WatchdogUsec(n) | Self::ExtendTimeoutUsec(n) | Self::MonotonicUsec(n) | Self::MainPid(n) | Self::Errno(n) => {
        Cow::Owned(n.to_string())
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn each_assignment_has_its_protocol_key_and_value() {
    assert_eq!((Assignment::Ready.key(), Assignment::Ready.value().as_ref()), ("READY", "1"));
    assert_eq!((Assignment::WatchdogTrigger.key(), Assignment::WatchdogTrigger.value().as_ref()), ("WATCHDOG", "trigger"));
    assert_eq!(Assignment::MainPid(42).value(), "42");
    assert_eq!(Assignment::FdPoll(false).value(), "0");
    assert_eq!((Assignment::Other("X_A", "b").key(), Assignment::Other("X_A", "b").value().as_ref()), ("X_A", "b"));
  }
}
