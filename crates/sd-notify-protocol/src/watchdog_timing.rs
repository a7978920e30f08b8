//! The watchdog's settings: its timing (health-check timeout < interval < timeout), what a failed
//! health check does, and the two datagrams it sends.

use std::time::Duration;

use crate::assignment::Assignment;
use crate::error::{NotifyError, Result};
use crate::message::Message;

/// What to send when the health check fails (throws, rejects, times out or returns `false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
  /// Send nothing for this request: the manager restarts the service only if no healthy
  /// answer arrives within its timeout.
  Skip,
  /// Send `WATCHDOG=trigger` (systemd >= 243): the manager acts as if the timeout expired, now.
  Trigger,
}

impl FailureAction {
  /// `skip` or `trigger`.
  pub fn parse(word: &str) -> Result<Self> {
    match word {
      "skip" => Ok(Self::Skip),
      "trigger" => Ok(Self::Trigger),
      other => Err(NotifyError::value("failure action", format!("it takes 'skip' or 'trigger', got {other:?}"))),
    }
  }

  pub fn as_str(self) -> &'static str {
    match self {
      Self::Skip => "skip",
      Self::Trigger => "trigger",
    }
  }
}

/// A datagram the watchdog sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
  /// `WATCHDOG=1`: the event loop answered the latest request and the service is healthy.
  Ping,
  /// `WATCHDOG=trigger`: the health check failed and `FailureAction::Trigger` was asked for.
  Trigger,
}

impl Action {
  /// The datagram, built and validated like every other notification.
  pub fn datagram(self) -> Result<Vec<u8>> {
    let mut msg = Message::new();
    msg.add(if self == Self::Ping { Assignment::Watchdog } else { Assignment::WatchdogTrigger })?;
    msg.into_datagram()
  }
}

/// How the JavaScript side judged the service when it answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
  Healthy,
  Unhealthy,
}

/// The heartbeat's timing, all strictly ordered: health-check timeout < interval < timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
  /// WATCHDOG_USEC: the manager restarts the service when no ping arrives within this time.
  pub timeout: Duration,
  /// Time between two requests for proof of life (and so, on a healthy loop, two pings).
  pub interval: Duration,
  /// How long the JavaScript health check may take before it counts as failed.
  pub health_check_timeout: Duration,
}

impl Timing {
  /// The interval defaults to half the timeout (the manager's own advice) and must be shorter
  /// than the timeout; the health-check timeout defaults to half the interval and must be
  /// shorter than the interval, else its answer could never earn a ping.
  pub fn new(timeout_usec: u64, interval_usec: Option<u64>, health_check_timeout_usec: Option<u64>) -> Result<Self> {
    if interval_usec == Some(0) {
      return Err(NotifyError::number("interval", "it must be at least 1 ms"));
    }
    if health_check_timeout_usec == Some(0) {
      return Err(NotifyError::number("health check timeout", "it must be at least 1 ms"));
    }
    let interval_usec = interval_usec.unwrap_or((timeout_usec / 2).max(1));
    if interval_usec >= timeout_usec {
      return Err(NotifyError::WatchdogInterval { interval_usec, timeout_usec });
    }
    let check_usec = health_check_timeout_usec.unwrap_or((interval_usec / 2).max(1));
    if check_usec >= interval_usec {
      return Err(NotifyError::number(
        "health check timeout",
        format!(
          "{} ms is not shorter than the ping interval of {} ms: a later answer could never earn a ping",
          check_usec as f64 / 1000.0,
          interval_usec as f64 / 1000.0
        ),
      ));
    }
    Ok(Self {
      timeout: Duration::from_micros(timeout_usec),
      interval: Duration::from_micros(interval_usec),
      health_check_timeout: Duration::from_micros(check_usec),
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const MS: Duration = Duration::from_millis(1);

  fn timing(timeout_ms: u64, interval_ms: Option<u64>) -> Timing {
    Timing::new(timeout_ms * 1000, interval_ms.map(|m| m * 1000), None).unwrap()
  }

  #[test]
  fn interval_defaults_to_half_the_timeout_and_check_timeout_to_half_the_interval() {
    let t = timing(2000, None);
    assert_eq!(t.timeout, 2000 * MS);
    assert_eq!(t.interval, 1000 * MS);
    assert_eq!(t.health_check_timeout, 500 * MS);
  }

  #[test]
  fn a_chosen_interval_shorter_than_the_timeout_is_kept() {
    assert_eq!(timing(2000, Some(300)).interval, 300 * MS);
    assert_eq!(timing(2000, Some(1999)).interval, 1999 * MS);
  }

  #[test]
  fn an_interval_not_shorter_than_the_timeout_is_refused_with_its_own_code() {
    for interval in [2000, 2001, 60_000] {
      let e = Timing::new(2_000_000, Some(interval * 1000), None).unwrap_err();
      assert_eq!(e.code(), "ERR_SD_NOTIFY_WATCHDOG_INTERVAL", "{interval}");
      assert!(e.to_string().contains("2000 ms"), "{e}");
    }
  }

  #[test]
  fn zero_intervals_and_check_timeouts_are_refused() {
    assert_eq!(Timing::new(2_000_000, Some(0), None).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
    assert_eq!(Timing::new(2_000_000, None, Some(0)).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
  }

  #[test]
  fn a_check_timeout_not_shorter_than_the_interval_is_refused() {
    let e = Timing::new(2_000_000, Some(500_000), Some(500_000)).unwrap_err();
    assert_eq!(e.code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
    assert!(e.to_string().contains("health check timeout"), "{e}");
    assert_eq!(Timing::new(2_000_000, Some(500_000), Some(499_000)).unwrap().health_check_timeout, 499 * MS);
  }

  #[test]
  fn a_one_microsecond_timeout_has_no_usable_interval() {
    assert_eq!(Timing::new(1, None, None).unwrap_err().code(), "ERR_SD_NOTIFY_WATCHDOG_INTERVAL");
  }

  #[test]
  fn failure_actions_parse_from_their_javascript_spelling() {
    assert_eq!(FailureAction::parse("skip").unwrap(), FailureAction::Skip);
    assert_eq!(FailureAction::parse("trigger").unwrap(), FailureAction::Trigger);
    assert_eq!(FailureAction::parse("Trigger").unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE");
  }

  #[test]
  fn actions_are_the_two_watchdog_datagrams() {
    assert_eq!(Action::Ping.datagram().unwrap(), b"WATCHDOG=1");
    assert_eq!(Action::Trigger.datagram().unwrap(), b"WATCHDOG=trigger");
  }
}
