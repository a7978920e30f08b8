//! Building a notification datagram from `KEY=value` assignments, validated the way the
//! service manager will read them.

use std::mem::MaybeUninit;

use super::assignment::Assignment;
use super::error::{NotifyError, Result};

/// The manager reads at most this many bytes per datagram (NOTIFY_BUFFER_MAX = PIPE_BUF);
/// longer datagrams are dropped on its side while the sender sees success.
pub const NOTIFY_BUFFER_MAX: usize = 4096;

/// systemd refuses STATUS= texts longer than this.
pub const STATUS_MAX: usize = 16 * 1024;

/// How the manager interprets the value of a key it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
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
fn known_kind(key: &str) -> Option<ValueKind> {
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

fn validate_value(key: &str, value: &str) -> Result<()> {
  // FDNAME has rules of its own that already refuse every control character: one code for all.
  if key == "FDNAME" {
    return validate_fd_name(value);
  }
  check_line(key, value)?;
  let Some(kind) = known_kind(key) else { return Ok(()) };
  check_kind(key, value, kind)
}

/// A `STATUS=` text checked as [`Message::add`] checks it.
pub fn check_status(text: &str) -> Result<()> {
  check_line("STATUS", text)?;
  if text.len() > STATUS_MAX {
    return check_kind("STATUS", text, ValueKind::Text { max: STATUS_MAX });
  }
  Ok(())
}

/// The manager splits lines on both \n and \r, and drops a message holding NUL: such a value
/// would inject assignments of the sender's choosing.
fn check_line(key: &str, value: &str) -> Result<()> {
  let Some(b) = value.bytes().find(|b| matches!(b, b'\n' | b'\r' | 0)) else { return Ok(()) };
  let name = match b {
    b'\n' => "a newline (\\n)",
    b'\r' => "a carriage return (\\r)",
    _ => "a NUL byte",
  };
  Err(NotifyError::value(key, format!("it contains {name}, which would let it inject other assignments; remove it")))
}

/// `value` read as the manager reads a value of `kind`.
fn check_kind(key: &str, value: &str, kind: ValueKind) -> Result<()> {
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

/// A notification under construction: assignments in order, each validated when added. The
/// datagram is built in place, in a buffer of the manager's limit: a notification allocates
/// nothing, and a message over the limit is only measured (for its error), never copied.
#[derive(Clone)]
pub struct Message {
  buf: MaybeUninit<[u8; NOTIFY_BUFFER_MAX]>,
  /// The datagram's length so far: past `NOTIFY_BUFFER_MAX` only counted, not written.
  len: usize,
  /// How many assignments it holds.
  count: usize,
  /// Whether one of them is `BARRIER=`.
  barrier: bool,
}

impl Default for Message {
  fn default() -> Self {
    Self::new()
  }
}

impl std::fmt::Debug for Message {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Message").field("payload", &String::from_utf8_lossy(self.written())).field("len", &self.len).finish()
  }
}

impl Message {
  #[inline]
  pub fn new() -> Self {
    // Field by field: built as one value, LLVM folds the uninitialised buffer and the zeroed
    // counters into a memset of all 4 KiB.
    let mut m = MaybeUninit::<Self>::uninit();
    let p = m.as_mut_ptr();
    // SAFETY: every field but the buffer is written, and the buffer may stay uninitialised.
    unsafe {
      std::ptr::addr_of_mut!((*p).len).write(0);
      std::ptr::addr_of_mut!((*p).count).write(0);
      std::ptr::addr_of_mut!((*p).barrier).write(false);
      m.assume_init()
    }
  }

  /// Adds `KEY=value`, refusing keys, values and numbers the manager would misread.
  pub fn push(&mut self, key: &str, value: &str) -> Result<&mut Self> {
    validate_key(key)?;
    validate_value(key, value)?;
    self.append(key, value.as_bytes());
    Ok(self)
  }

  /// Adds a typed assignment. Its key is valid by construction, and so is the value of a flag:
  /// only what comes from the caller (text, numbers, `Other`) is checked.
  pub fn add(&mut self, assignment: Assignment<'_>) -> Result<&mut Self> {
    use Assignment::*;
    match assignment {
      Other(key, value) => return self.push(key, value),
      // The kind is known from the variant: no lookup by key.
      Status(text) | BusError(text) => {
        let kind = if let Status(_) = assignment { ValueKind::Text { max: STATUS_MAX } } else { ValueKind::ErrorName };
        check_line(assignment.key(), text)?;
        check_kind(assignment.key(), text, kind)?;
        self.append(assignment.key(), text.as_bytes());
      }
      FdName(name) => {
        validate_fd_name(name)?;
        self.append(assignment.key(), name.as_bytes());
      }
      WatchdogUsec(n) | ExtendTimeoutUsec(n) | MonotonicUsec(n) | MainPid(n) | Errno(n) => {
        if let Some(ValueKind::Unsigned { min, max }) = known_kind(assignment.key()) {
          if !(min..=max).contains(&n) {
            return Err(NotifyError::number(assignment.key(), format!("{n} is out of range {min}..={max}")));
          }
        }
        let mut digits = [0u8; 20];
        self.append(assignment.key(), decimal(n, &mut digits));
      }
      Ready | Reloading | Stopping | Watchdog | WatchdogTrigger | FdStore | FdStoreRemove | FdPoll(_) | Barrier => {
        self.append(assignment.key(), assignment.value().as_bytes());
      }
    }
    Ok(self)
  }

  /// Appends a checked `KEY=value` line.
  fn append(&mut self, key: &str, value: &[u8]) {
    if self.count > 0 {
      self.write(b"\n");
    }
    self.write(key.as_bytes());
    self.write(b"=");
    self.write(value);
    self.count += 1;
    self.barrier |= key == "BARRIER";
  }

  /// Copies `bytes` to the end while they fit; counts them either way.
  #[inline]
  fn write(&mut self, bytes: &[u8]) {
    let end = self.len + bytes.len();
    if end <= NOTIFY_BUFFER_MAX {
      // SAFETY: `self.len..end` lies within the buffer, and `bytes` cannot overlap it (`bytes`
      // is not in `self`).
      unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.as_mut_ptr().cast::<u8>().add(self.len), bytes.len()) };
    }
    self.len = end;
  }

  /// The bytes written so far (all of them unless the message went over the limit).
  fn written(&self) -> &[u8] {
    let n = self.len.min(NOTIFY_BUFFER_MAX);
    // SAFETY: the first `n` bytes were written by `write` (it writes in order and only stops
    // writing past the buffer's end, where `n` stops too).
    unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), n) }
  }

  /// The datagram, or an error if it is empty or over the manager's limit.
  pub fn datagram(&self) -> Result<&[u8]> {
    if self.count == 0 {
      return Err(NotifyError::EmptyMessage);
    }
    if self.len > NOTIFY_BUFFER_MAX {
      return Err(NotifyError::MessageTooLong { len: self.len });
    }
    // BARRIER=1 must travel alone: the manager treats it specially and closes its fd.
    if self.count > 1 && self.barrier {
      return Err(NotifyError::InvalidCombination { reason: "BARRIER=1 must be alone in its datagram; use barrier()".into() });
    }
    Ok(self.written())
  }

  /// [`datagram`](Self::datagram), copied out.
  pub fn into_datagram(self) -> Result<Vec<u8>> {
    self.datagram().map(<[u8]>::to_vec)
  }
}

/// `n` in decimal, written at the end of `out`.
fn decimal(mut n: u64, out: &mut [u8; 20]) -> &[u8] {
  let mut at = out.len();
  loop {
    at -= 1;
    out[at] = b'0' + (n % 10) as u8;
    n /= 10;
    if n == 0 {
      return &out[at..];
    }
  }
}

/// Parses a datagram the way the manager does: lines split on `\n` and `\r`, empty lines dropped,
/// each `KEY=value` (a line without `=` is kept with an empty value marker of `None`).
pub fn parse_assignments(data: &[u8]) -> Vec<(String, Option<String>)> {
  data
    .split(|b| *b == b'\n' || *b == b'\r')
    .filter(|line| !line.is_empty())
    .map(|line| {
      let line = String::from_utf8_lossy(line);
      match line.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (line.into_owned(), None),
      }
    })
    .collect()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn datagram(pairs: &[(&str, &str)]) -> Result<Vec<u8>> {
    let mut m = Message::new();
    for (k, v) in pairs {
      m.push(k, v)?;
    }
    m.into_datagram()
  }

  #[test]
  fn assignments_are_joined_by_newlines_in_order_without_trailing_newline() {
    assert_eq!(datagram(&[("READY", "1"), ("STATUS", "up")]).unwrap(), b"READY=1\nSTATUS=up");
  }

  #[test]
  fn values_with_newline_carriage_return_or_nul_are_refused() {
    for bad in ["a\nMAINPID=1", "a\rMAINPID=1", "a\0b"] {
      let err = datagram(&[("STATUS", bad)]).unwrap_err();
      assert_eq!(err.code(), "ERR_SD_NOTIFY_INVALID_VALUE", "{bad:?}");
    }
  }

  #[test]
  fn keys_must_be_upper_snake_case() {
    for bad in ["", "ready", "1READY", "RE-ADY", "RE ADY", "X=Y", "É"] {
      assert_eq!(datagram(&[(bad, "1")]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_KEY", "{bad:?}");
    }
    for good in ["X_APP", "_PRIVATE", "A1", "READY"] {
      assert!(validate_key(good).is_ok(), "{good}");
    }
  }

  #[test]
  fn numbers_are_written_in_decimal() {
    let mut m = Message::new();
    m.add(Assignment::MainPid(1))
      .unwrap()
      .add(Assignment::WatchdogUsec(u64::MAX - 1))
      .unwrap()
      .add(Assignment::Errno(0))
      .unwrap();
    assert_eq!(m.datagram().unwrap(), b"MAINPID=1\nWATCHDOG_USEC=18446744073709551614\nERRNO=0");
  }

  #[test]
  fn an_empty_value_still_makes_an_assignment() {
    let mut m = Message::new();
    m.push("X_EMPTY", "").unwrap();
    assert_eq!(m.datagram().unwrap(), b"X_EMPTY=");
  }

  #[test]
  fn a_message_over_the_limit_reports_its_whole_length() {
    let mut m = Message::new();
    m.add(Assignment::Status(&"x".repeat(5000))).unwrap().add(Assignment::Ready).unwrap();
    assert_eq!(m.datagram().unwrap_err(), NotifyError::MessageTooLong { len: 7 + 5000 + 1 + 7 });
  }

  #[test]
  fn empty_message_is_refused() {
    assert_eq!(Message::new().into_datagram().unwrap_err(), NotifyError::EmptyMessage);
  }

  #[test]
  fn datagram_of_4096_bytes_passes_and_4097_is_refused() {
    let prefix = "STATUS=".len();
    let ok = "x".repeat(NOTIFY_BUFFER_MAX - prefix);
    assert_eq!(datagram(&[("STATUS", &ok)]).unwrap().len(), 4096);
    let long = "x".repeat(NOTIFY_BUFFER_MAX - prefix + 1);
    assert_eq!(datagram(&[("STATUS", &long)]).unwrap_err(), NotifyError::MessageTooLong { len: 4097 });
  }

  #[test]
  fn known_keys_have_typed_values() {
    assert!(datagram(&[("READY", "0")]).is_err());
    assert!(datagram(&[("WATCHDOG", "trigger")]).is_ok());
    assert!(datagram(&[("WATCHDOG", "2")]).is_err());
    assert!(datagram(&[("MAINPID", "0")]).is_err());
    assert!(datagram(&[("MAINPID", "-1")]).is_err());
    assert!(datagram(&[("MAINPID", "2147483648")]).is_err());
    assert!(datagram(&[("MAINPID", "42")]).is_ok());
    assert!(datagram(&[("ERRNO", "1.5")]).is_err());
    assert!(datagram(&[("FDPOLL", "0")]).is_ok());
    assert!(datagram(&[("NOTIFYACCESS", "everyone")]).is_err());
    assert!(datagram(&[("BUSERROR", "org.freedesktop.DBus.Error.Failed")]).is_ok());
    assert!(datagram(&[("BUSERROR", "has space")]).is_err());
    assert!(datagram(&[("X_ANYTHING", "free text")]).is_ok());
  }

  #[test]
  fn fd_names_follow_the_managers_rules() {
    assert!(validate_fd_name("http").is_ok());
    assert!(validate_fd_name(&"a".repeat(255)).is_ok());
    for bad in [String::new(), "a".repeat(256), "a:b".into(), "tab\there".into(), "ü".into()] {
      assert_eq!(validate_fd_name(&bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FDNAME", "{bad:?}");
    }
  }

  #[test]
  fn barrier_must_be_alone() {
    assert!(datagram(&[("BARRIER", "1"), ("READY", "1")]).is_err());
    assert!(datagram(&[("BARRIER", "1")]).is_ok());
  }

  #[test]
  fn parsing_splits_on_both_line_ends_and_drops_empty_lines() {
    let parsed = parse_assignments(b"READY=1\r\n\nSTATUS=a=b\rX");
    assert_eq!(parsed, vec![("READY".into(), Some("1".into())), ("STATUS".into(), Some("a=b".into())), ("X".into(), None)]);
  }
}
