//! What the manager accepts, key by key: the rules a notification's keys and values are checked
//! against before anything is sent (systemd 252..258), shared by every way a message is built.

use super::error::{NotifyError, Result};

/// systemd refuses STATUS= texts longer than this.
pub const STATUS_MAX: usize = 16 * 1024;

/// How the manager interprets the value of a key it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueKind {
  /// Only `1` means anything (READY=1, STOPPING=1, ...).
  Flag,
  /// A decimal integer within `min..=max`.
  Unsigned { min: u64, max: u64 },
  /// `0` or `1`.
  Boolean,
  /// `1` (ping) or `trigger`.
  Watchdog,
  /// Free text (STATUS=).
  Text { max: usize },
  /// An error name (BUSERROR=, VARLINKERROR=): non-empty, printable, no spaces.
  ErrorName,
  /// NOTIFYACCESS= one of none/main/exec/all.
  NotifyAccess,
}

const PID_MAX: u64 = i32::MAX as u64;
const INT_MAX: u64 = i32::MAX as u64;

/// Keys the manager understands and how it reads their values (systemd 252..258).
pub(super) fn known_kind(key: &str) -> Option<ValueKind> {
  use ValueKind::*;
  Some(match key {
    "READY" | "RELOADING" | "STOPPING" | "FDSTORE" | "FDSTOREREMOVE" | "BARRIER" | "RESTART_RESET" | "MAINPIDFD" => Flag,
    "MAINPID" => Unsigned { min: 1, max: PID_MAX },
    "ERRNO" | "EXIT_STATUS" => Unsigned { min: 0, max: INT_MAX },
    "WATCHDOG_USEC" | "EXTEND_TIMEOUT_USEC" | "MONOTONIC_USEC" | "MAINPIDFDID" => Unsigned { min: 0, max: u64::MAX - 1 },
    "FDPOLL" => Boolean,
    "WATCHDOG" => Watchdog,
    "STATUS" => Text { max: STATUS_MAX },
    "BUSERROR" | "VARLINKERROR" => ErrorName,
    "NOTIFYACCESS" => NotifyAccess,
    _ => return None,
  })
}

/// `[A-Z_][A-Z0-9_]*`: anything else could not be told apart from a value by the manager.
pub fn validate_key(key: &str) -> Result<()> {
  let mut bytes = key.bytes();
  let ok = match bytes.next() {
    Some(b) if b.is_ascii_uppercase() || b == b'_' => bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
    _ => false,
  };
  if ok {
    Ok(())
  } else {
    Err(NotifyError::InvalidKey { key: key.into() })
  }
}

/// FDNAME= as the manager accepts it: ASCII, 1..=255 characters, no control characters, no `:`.
pub fn validate_fd_name(name: &str) -> Result<()> {
  let reason = if name.is_empty() {
    Some("it is empty")
  } else if name.len() > 255 {
    Some("it is longer than 255 characters")
  } else if !name.is_ascii() {
    Some("it must be ASCII")
  } else if name.bytes().any(|b| b.is_ascii_control()) {
    Some("it contains a control character")
  } else if name.contains(':') {
    Some("it contains ':' (LISTEN_FDNAMES is colon-separated)")
  } else {
    None
  };
  match reason {
    Some(r) => Err(NotifyError::InvalidFdName { name: name.into(), reason: r.into() }),
    None => Ok(()),
  }
}

pub(super) fn validate_value(key: &str, value: &str) -> Result<()> {
  // FDNAME has rules of its own that already refuse every control character: one code for all.
  if key == "FDNAME" {
    return validate_fd_name(value);
  }
  check_line(key, value)?;
  let Some(kind) = known_kind(key) else { return Ok(()) };
  check_kind(key, value, kind)
}

/// The manager splits lines on both \n and \r, and drops a message holding NUL: such a value
/// would inject assignments of the sender's choosing.
pub(super) fn check_line(key: &str, value: &str) -> Result<()> {
  let Some(b) = value.bytes().find(|b| matches!(b, b'\n' | b'\r' | 0)) else { return Ok(()) };
  let name = match b {
    b'\n' => "a newline (\\n)",
    b'\r' => "a carriage return (\\r)",
    _ => "a NUL byte",
  };
  Err(NotifyError::value(key, format!("it contains {name}, which would let it inject other assignments; remove it")))
}

/// `value` read as the manager reads a value of `kind`.
pub(super) fn check_kind(key: &str, value: &str, kind: ValueKind) -> Result<()> {
  match kind {
    ValueKind::Flag if value != "1" => Err(NotifyError::value(key, format!("{key} only takes 1, got {value:?}"))),
    ValueKind::Boolean if value != "0" && value != "1" => {
      Err(NotifyError::value(key, format!("{key} takes 0 or 1, got {value:?}")))
    }
    ValueKind::Watchdog if value != "1" && value != "trigger" => {
      Err(NotifyError::value(key, format!("WATCHDOG takes 1 or \"trigger\", got {value:?}")))
    }
    ValueKind::NotifyAccess if !matches!(value, "none" | "main" | "exec" | "all") => {
      Err(NotifyError::value(key, format!("NOTIFYACCESS takes none, main, exec or all, got {value:?}")))
    }
    ValueKind::Unsigned { min, max } => {
      if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotifyError::number(key, format!("{value:?} is not a non-negative decimal integer")));
      }
      match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(()),
        _ => Err(NotifyError::number(key, format!("{value} is out of range {min}..={max}"))),
      }
    }
    ValueKind::Text { max } if value.len() > max => {
      Err(NotifyError::value(key, format!("it is {} bytes, over the limit of {max}", value.len())))
    }
    ValueKind::ErrorName if value.is_empty() || value.bytes().any(|b| !b.is_ascii_graphic()) => {
      Err(NotifyError::value(key, "an error name must be non-empty printable ASCII without spaces"))
    }
    _ => Ok(()),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn fd_names_follow_the_managers_rules() {
    assert!(validate_fd_name("http").is_ok());
    assert!(validate_fd_name(&"a".repeat(255)).is_ok());
    for bad in [String::new(), "a".repeat(256), "a:b".into(), "tab\there".into(), "ü".into()] {
      assert_eq!(validate_fd_name(&bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FDNAME", "{bad:?}");
    }
  }

  #[test]
  fn a_status_is_one_line_of_text() {
    assert!(validate_value("STATUS", "serving 3 clients: ✓").is_ok());
    for bad in ["a\nb", "a\rb", "a\0b"] {
      assert_eq!(validate_value("STATUS", bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE", "{bad:?}");
    }
    assert!(validate_value("STATUS", &"x".repeat(STATUS_MAX + 1)).is_err());
  }
}
