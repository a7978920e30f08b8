//! Building a notification datagram from `KEY=value` assignments, validated the way the
//! service manager will read them.

use std::mem::MaybeUninit;

use super::assignment::Assignment;
use super::error::{NotifyError, Result};
use super::value::{check_kind, check_line, known_kind, validate_fd_name, validate_key, validate_value, ValueKind, STATUS_MAX};

/// The manager reads at most this many bytes per datagram (NOTIFY_BUFFER_MAX = PIPE_BUF);
/// longer datagrams are dropped on its side while the sender sees success.
pub const NOTIFY_BUFFER_MAX: usize = 4096;

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
