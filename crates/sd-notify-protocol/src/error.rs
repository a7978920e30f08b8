//! Every failure of the protocol layer, each with a stable code.

use std::fmt;

use nix::errno::Errno;

/// A protocol-layer error. `code()` is stable and becomes the JavaScript `error.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyError {
  /// A key that is not `[A-Z_][A-Z0-9_]*`.
  InvalidKey { key: String },
  /// A journal field name journald would refuse (1..=64 bytes of `A-Z0-9_`, no leading digit or `_`).
  InvalidFieldName { name: String, reason: &'static str },
  /// Prebuilt `KEY=value` lines whose names do not add up to what their writer put in: a name
  /// held `=` or a line break, so the lines split elsewhere than the writer meant.
  FieldNamesSplit,
  /// A journal entry over journald's limit.
  EntryTooLarge { len: usize },
  /// A value the manager would misread: control characters, a wrong flag, an unknown enum word.
  InvalidValue { key: String, reason: String },
  /// A number that is negative, fractional, not finite or out of range.
  InvalidNumber { key: String, reason: String },
  /// Nothing to send: the manager must never get an empty datagram.
  EmptyMessage,
  /// The datagram would exceed the manager's receive buffer (it would be dropped silently).
  MessageTooLong { len: usize },
  /// An FDNAME the manager refuses.
  InvalidFdName { name: String, reason: String },
  /// A file descriptor that cannot be passed.
  InvalidFd { reason: String },
  /// A message that must travel alone or with exactly one fd was combined with others.
  InvalidCombination { reason: String },
  /// NOTIFY_SOCKET (or a listener address) that is not a supported address form.
  InvalidAddress { address: String, reason: String },
  /// An environment variable set by the manager that does not parse.
  InvalidEnvironment { name: &'static str, reason: String },
  /// A wait that ran out of time (barrier, listener receive).
  Timeout { what: &'static str, ms: u64, hint: &'static str },
  /// The NotifyListener was closed.
  ListenerClosed,
  /// A watchdog ping interval that is not shorter than the manager's timeout.
  WatchdogInterval { interval_usec: u64, timeout_usec: u64 },
  /// `startWatchdog()` while this process already runs a watchdog.
  WatchdogRunning,
  /// The watchdog could not be set up (its callback into the embedder, or its thread).
  WatchdogStart { reason: String },
  /// A system call failed.
  Os { errno: Errno, op: &'static str },
  /// A bug: Rust code of this package panicked. Caught where it happened (`sync::contain`), so
  /// the process goes on and the caller gets this instead.
  Panic { during: &'static str, message: String },
}

impl NotifyError {
  /// The stable code: an errno name for system errors, else `ERR_SD_NOTIFY_*`.
  pub fn code(&self) -> String {
    match self {
      Self::InvalidKey { .. } => "ERR_SD_NOTIFY_INVALID_KEY".into(),
      Self::InvalidFieldName { .. } | Self::FieldNamesSplit => "ERR_SD_NOTIFY_INVALID_KEY".into(),
      Self::EntryTooLarge { .. } => "ERR_SD_NOTIFY_MESSAGE_TOO_LONG".into(),
      Self::InvalidValue { .. } => "ERR_SD_NOTIFY_INVALID_VALUE".into(),
      Self::InvalidNumber { .. } => "ERR_SD_NOTIFY_INVALID_NUMBER".into(),
      Self::EmptyMessage => "ERR_SD_NOTIFY_EMPTY_MESSAGE".into(),
      Self::MessageTooLong { .. } => "ERR_SD_NOTIFY_MESSAGE_TOO_LONG".into(),
      Self::InvalidFdName { .. } => "ERR_SD_NOTIFY_INVALID_FDNAME".into(),
      Self::InvalidFd { .. } => "ERR_SD_NOTIFY_INVALID_FD".into(),
      Self::InvalidCombination { .. } => "ERR_SD_NOTIFY_INVALID_COMBINATION".into(),
      Self::InvalidAddress { .. } => "ERR_SD_NOTIFY_INVALID_ADDRESS".into(),
      Self::InvalidEnvironment { .. } => "ERR_SD_NOTIFY_INVALID_ENV".into(),
      Self::Timeout { .. } => "ETIMEDOUT".into(),
      Self::ListenerClosed => "ERR_SD_NOTIFY_LISTENER_CLOSED".into(),
      Self::WatchdogInterval { .. } => "ERR_SD_NOTIFY_WATCHDOG_INTERVAL".into(),
      Self::WatchdogRunning => "ERR_SD_NOTIFY_WATCHDOG_RUNNING".into(),
      Self::WatchdogStart { .. } => "ERR_SD_NOTIFY_WATCHDOG_START".into(),
      Self::Os { errno, .. } => errno_name(*errno),
      Self::Panic { .. } => "ERR_SD_NOTIFY_PANIC".into(),
    }
  }

  pub fn os(op: &'static str, errno: Errno) -> Self {
    Self::Os { errno, op }
  }

  pub fn value(key: &str, reason: impl Into<String>) -> Self {
    Self::InvalidValue { key: key.into(), reason: reason.into() }
  }

  pub fn number(key: &str, reason: impl Into<String>) -> Self {
    Self::InvalidNumber { key: key.into(), reason: reason.into() }
  }
}

/// How many characters of a caller's input a message quotes: a 50 MB key must not make a 50 MB
/// message (lib/errors.js cuts at the same length).
const ECHO_MAX: usize = 100;
/// How many characters of a reason a message keeps (reasons may quote a value in turn).
const REASON_MAX: usize = 300;

/// `text` as a message shows it: at most `max` characters, then an ellipsis and the full length
/// in bytes; `{:?}`-quoted when `quoted`. Cut at a character boundary, so it never panics.
struct Echo<'a> {
  text: &'a str,
  max: usize,
  quoted: bool,
}

impl fmt::Display for Echo<'_> {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (shown, cut) = match self.text.char_indices().nth(self.max) {
      Some((at, _)) => (self.text.get(..at).unwrap_or_default(), true),
      None => (self.text, false),
    };
    if self.quoted {
      write!(f, "{shown:?}")?;
    } else {
      f.write_str(shown)?;
    }
    if cut {
      write!(f, "\u{2026} ({} bytes)", self.text.len())?;
    }
    Ok(())
  }
}

/// A caller's key, name or address, quoted and cut to ECHO_MAX characters.
fn quoted(text: &str) -> Echo<'_> {
  Echo { text, max: ECHO_MAX, quoted: true }
}

/// A key shown bare (it passed the key rules), cut to ECHO_MAX characters.
fn bare(text: &str) -> Echo<'_> {
  Echo { text, max: ECHO_MAX, quoted: false }
}

/// A reason, cut to REASON_MAX characters: a value it quotes cannot make the message unbounded.
fn reason(text: &str) -> Echo<'_> {
  Echo { text, max: REASON_MAX, quoted: false }
}

/// What to change when a socket call is refused by the unit's sandbox rather than by the peer.
fn os_hint(errno: Errno, op: &str) -> &'static str {
  if !(op.starts_with("socket") || op.starts_with("sendmsg") || op.starts_with("connect")) {
    return "";
  }
  match errno {
    Errno::EAFNOSUPPORT => {
      ": the unit's RestrictAddressFamilies= probably forbids AF_UNIX; add AF_UNIX to it (systemd itself needs it to hear from the service)"
    }
    // connect/sendmsg to a socket file: most often plain file permissions, not a security module.
    Errno::EACCES => {
      ": permission denied: check the socket file's permissions and ownership (and its directory's: the sender needs write access to the socket and search access to each directory), then a security module (SELinux, AppArmor) or the unit's sandboxing (SystemCallFilter=, a seccomp profile)"
    }
    Errno::EPERM => {
      ": a security module (SELinux, AppArmor) or the unit's sandboxing (SystemCallFilter=, a seccomp profile) refused it; allow AF_UNIX datagram sockets to the notify socket"
    }
    _ => "",
  }
}

/// `ECONNREFUSED`, `ENOENT`, ...: nix's Errno debug form is the C constant's name.
pub fn errno_name(errno: Errno) -> String {
  format!("{errno:?}")
}

impl fmt::Display for NotifyError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Self::InvalidKey { key } => write!(
        f,
        "invalid notification key {}: keys must match [A-Z_][A-Z0-9_]* (private keys start with X_)",
        quoted(key)
      ),
      Self::InvalidFieldName { name, reason } => write!(
        f,
        "invalid journal field name {}: {reason} (names are 1 to 64 characters of A-Z, 0-9 and _, not starting with a digit or _)",
        quoted(name)
      ),
      Self::FieldNamesSplit => write!(
        f,
        "invalid journal field name: a name holds '=' or a line break (names are 1 to 64 characters of A-Z, 0-9 and _, not starting with a digit or _)"
      ),
      Self::EntryTooLarge { len } => {
        write!(f, "journal entry is {len} bytes, over journald's limit of 768 MiB per entry; split it")
      }
      Self::InvalidValue { key, reason: why } => write!(f, "invalid value for {}: {}", bare(key), reason(why)),
      Self::InvalidNumber { key, reason: why } => write!(f, "invalid number for {}: {}", bare(key), reason(why)),
      Self::EmptyMessage => write!(f, "refusing to send an empty notification: pass at least one field"),
      Self::MessageTooLong { len } => write!(
        f,
        "notification is {len} bytes, over the service manager's limit of 4096 bytes per datagram (the manager would drop it silently); shorten STATUS or split the fields"
      ),
      Self::InvalidFdName { name, reason: why } => write!(f, "invalid FDNAME {}: {}", quoted(name), reason(why)),
      Self::InvalidFd { reason: why } => write!(f, "invalid file descriptor: {}", reason(why)),
      Self::InvalidCombination { reason: why } => write!(f, "{}", reason(why)),
      Self::InvalidAddress { address, reason: why } => {
        write!(f, "invalid notification socket address {}: {}", quoted(address), reason(why))
      }
      Self::InvalidEnvironment { name, reason: why } => write!(f, "invalid ${name} in the environment: {}", reason(why)),
      Self::Timeout { what, ms, hint } => write!(f, "{what} timed out after {ms} ms{hint}"),
      Self::ListenerClosed => write!(f, "the NotifyListener is closed"),
      Self::WatchdogInterval { interval_usec, timeout_usec } => write!(
        f,
        "a watchdog interval of {} ms is not shorter than the watchdog timeout of {} ms (WATCHDOG_USEC): every ping would come too late; leave intervalMs unset to ping every timeout/2",
        *interval_usec as f64 / 1000.0,
        *timeout_usec as f64 / 1000.0
      ),
      Self::WatchdogRunning => write!(
        f,
        "a watchdog is already running in this process (one per process); use the Watchdog that startWatchdog() returned, or stop() it first"
      ),
      Self::WatchdogStart { reason: why } => write!(f, "the watchdog could not start: {}", reason(why)),
      Self::Os { errno, op } => write!(f, "{op} failed: {} ({}){}", errno.desc(), errno_name(*errno), os_hint(*errno, op)),
      Self::Panic { during, message } => write!(
        f,
        "internal error in sd-notify-rs during {during}: {} (a bug, contained: the process goes on, but this call did not complete; please report it with this message)",
        reason(message)
      ),
    }
  }
}

impl std::error::Error for NotifyError {}

pub type Result<T> = std::result::Result<T, NotifyError>;

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_sandbox_refusal_says_what_to_change() {
    let e = NotifyError::os("socket", Errno::EAFNOSUPPORT);
    assert_eq!(e.code(), "EAFNOSUPPORT");
    assert!(e.to_string().contains("RestrictAddressFamilies="), "{e}");
    assert!(NotifyError::os("sendmsg", Errno::EPERM).to_string().contains("security module"));
    assert!(!NotifyError::os("poll", Errno::EPERM).to_string().contains("security module"));
  }

  #[test]
  fn os_errors_are_coded_by_errno_name() {
    let e = NotifyError::os("sendmsg", Errno::ECONNREFUSED);
    assert_eq!(e.code(), "ECONNREFUSED");
    assert!(e.to_string().contains("sendmsg failed"));
  }

  #[test]
  fn a_huge_input_is_cut_in_the_message() {
    let key = "k".repeat(50 << 20);
    let m = NotifyError::InvalidKey { key }.to_string();
    assert!(m.len() < 400, "{} bytes", m.len());
    assert!(m.contains("\u{2026} (52428800 bytes)"), "{m}");
    let m = NotifyError::value("READY", format!("READY only takes 1, got {:?}", "x".repeat(1 << 20))).to_string();
    assert!(m.len() < 500, "{} bytes", m.len());
    // Cut at a character boundary: multi-byte characters never split (and never panic).
    let m = NotifyError::InvalidAddress { address: "\u{e9}".repeat(500), reason: "r".into() }.to_string();
    assert!(m.contains("(1000 bytes)"), "{m}");
    assert_eq!(NotifyError::InvalidKey { key: "short".into() }.to_string().matches("short").count(), 1);
    assert!(!NotifyError::InvalidKey { key: "k".repeat(100) }.to_string().contains('\u{2026}'));
  }

  #[test]
  fn eacces_names_file_permissions_and_security_modules() {
    let m = NotifyError::os("sendmsg", Errno::EACCES).to_string();
    assert!(m.contains("permissions and ownership"), "{m}");
    assert!(m.contains("SELinux"), "{m}");
  }

  #[test]
  fn timeouts_use_etimedout() {
    assert_eq!(NotifyError::Timeout { what: "barrier", ms: 5, hint: "" }.code(), "ETIMEDOUT");
  }
}
