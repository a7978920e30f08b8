//! sd_watchdog_enabled: whether the manager expects WATCHDOG=1 pings from this process.

use std::ffi::OsString;

use super::env;
use super::error::{NotifyError, Result};

/// What the manager asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchdogSettings {
  /// WATCHDOG_USEC: the manager kills us if no ping arrives within this time.
  pub timeout_usec: u64,
  /// WATCHDOG_PID, when the manager set it.
  pub pid: Option<u32>,
}

/// Reads WATCHDOG_USEC/WATCHDOG_PID through `lookup`, for process `own_pid`.
/// `Ok(None)`: no watchdog for this process.
pub fn watchdog_settings(lookup: impl Fn(&str) -> Option<OsString>, own_pid: u32) -> Result<Option<WatchdogSettings>> {
  let Some(raw_usec) = lookup("WATCHDOG_USEC") else { return Ok(None) };
  let text = env::text("WATCHDOG_USEC", &raw_usec)?;
  let timeout_usec: u64 = env::decimal_var("WATCHDOG_USEC", text, "a number of microseconds")?;
  if timeout_usec == 0 || timeout_usec == u64::MAX {
    return Err(NotifyError::InvalidEnvironment {
      name: "WATCHDOG_USEC",
      reason: format!("{timeout_usec} is not a usable timeout"),
    });
  }
  let pid = match lookup("WATCHDOG_PID") {
    None => None,
    Some(raw_pid) => {
      let text = env::text("WATCHDOG_PID", &raw_pid)?;
      let pid: u32 = env::decimal(text).filter(|p| *p > 0).ok_or_else(|| NotifyError::InvalidEnvironment {
        name: "WATCHDOG_PID",
        reason: format!("{text:?} is not a process id"),
      })?;
      // The watchdog belongs to another process (e.g. our parent): not ours to feed.
      if pid != own_pid {
        return Ok(None);
      }
      Some(pid)
    }
  };
  Ok(Some(WatchdogSettings { timeout_usec, pid }))
}

/// [`watchdog_settings`] for this process and its real environment.
pub fn watchdog_enabled() -> Result<Option<WatchdogSettings>> {
  watchdog_settings(env::lookup, std::process::id())
}

#[cfg(test)]
mod tests {
  use super::*;

  fn with(vars: &[(&str, &str)], pid: u32) -> Result<Option<WatchdogSettings>> {
    let vars: Vec<(String, OsString)> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
    watchdog_settings(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), pid)
  }

  #[test]
  fn unset_means_disabled() {
    assert_eq!(with(&[], 10).unwrap(), None);
  }

  #[test]
  fn a_valid_timeout_enables_it() {
    assert_eq!(with(&[("WATCHDOG_USEC", "2000000")], 10).unwrap(), Some(WatchdogSettings { timeout_usec: 2_000_000, pid: None }));
  }

  #[test]
  fn zero_garbage_and_infinity_are_errors() {
    for bad in ["0", "abc", "-5", "18446744073709551615", ""] {
      assert_eq!(with(&[("WATCHDOG_USEC", bad)], 10).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_ENV", "{bad}");
    }
  }

  #[test]
  fn watchdog_pid_of_another_process_disables_it() {
    assert_eq!(with(&[("WATCHDOG_USEC", "1000"), ("WATCHDOG_PID", "11")], 10).unwrap(), None);
    assert_eq!(
      with(&[("WATCHDOG_USEC", "1000"), ("WATCHDOG_PID", "10")], 10).unwrap(),
      Some(WatchdogSettings { timeout_usec: 1000, pid: Some(10) })
    );
  }

  #[test]
  fn unparsable_watchdog_pid_is_an_error() {
    assert!(with(&[("WATCHDOG_USEC", "1000"), ("WATCHDOG_PID", "x")], 10).is_err());
    assert!(with(&[("WATCHDOG_USEC", "1000"), ("WATCHDOG_PID", "0")], 10).is_err());
  }
}
