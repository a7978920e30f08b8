//! The process environment: the one place the core reads it, and the one strict decimal parser
//! its variables share.
//!
//! Thread safety: `getenv`'s result is read in place, and musl's `setenv` frees a replaced value,
//! so a read must not overlap a write. The core reads in place only on the thread its embedder
//! says writes the environment (by default the main thread); any other thread reads through a
//! reader that the embedder installs for the duration of a call ([`read_with`]), and a thread
//! with neither gets a copy through `std::env`. An embedder whose main thread's environment is
//! not the C environment calls [`read_main_thread_through_reader`] once. Which threads and
//! runtimes need what is the embedder's knowledge (for Node.js: src/binding/env.rs).

use std::ffi::{CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::error::{NotifyError, Result};

/// The main thread's `pthread_self()`, once it has asked (0 before): comparing with it costs less
/// than a thread-local in a shared library. The main thread lives as long as the process, so its
/// id is never reused by another thread.
static MAIN_THREAD: AtomicUsize = AtomicUsize::new(0);

/// Whether the calling thread is the process's main thread (its tid is the pid).
pub fn on_main_thread() -> bool {
  // SAFETY: pthread_self has no preconditions.
  let me = unsafe { libc::pthread_self() } as usize;
  match MAIN_THREAD.load(Ordering::Relaxed) {
    0 => {
      thread_local! {
        static MAIN: bool = nix::unistd::gettid() == nix::unistd::getpid();
      }
      let main = MAIN.with(|m| *m);
      if main {
        MAIN_THREAD.store(me, Ordering::Relaxed);
      }
      main
    }
    main => me == main,
  }
}

static MAIN_THROUGH_READER: AtomicBool = AtomicBool::new(false);

/// The main thread's `pthread_self()` once it is known to read in place (0 otherwise): every
/// notification asks, so the answer costs one comparison.
static IN_PLACE_THREAD: AtomicUsize = AtomicUsize::new(0);

/// From now on the main thread reads the environment through its installed reader, like any
/// other thread: for a runtime whose `process.env` writes never reach the C environment.
pub fn read_main_thread_through_reader() {
  MAIN_THROUGH_READER.store(true, Ordering::Relaxed);
  IN_PLACE_THREAD.store(0, Ordering::Relaxed);
}

/// Whether this thread reads the C environment in place (the main thread, unless
/// [`read_main_thread_through_reader`] was called).
pub fn reads_in_place() -> bool {
  // SAFETY: pthread_self has no preconditions. A live thread's id is never 0.
  let me = unsafe { libc::pthread_self() } as usize;
  if me == IN_PLACE_THREAD.load(Ordering::Relaxed) {
    return true;
  }
  let in_place = on_main_thread() && !MAIN_THROUGH_READER.load(Ordering::Relaxed);
  if in_place {
    IN_PLACE_THREAD.store(me, Ordering::Relaxed);
  }
  in_place
}

/// Reads variable `name` into `out` for a thread that does not read in place; `false` when unset.
pub type ThreadReader = Box<dyn Fn(&CStr, &mut Vec<u8>) -> bool>;

thread_local! {
  static READER: std::cell::RefCell<Option<ThreadReader>> = const { std::cell::RefCell::new(None) };
}

/// Installs `reader` for this thread until the returned guard drops (the binding does this around
/// each call made from such a thread).
pub fn read_with(reader: ThreadReader) -> ReaderGuard {
  let previous = READER.with(|r| r.borrow_mut().replace(reader));
  ReaderGuard(previous)
}

/// Puts the previous reader (usually none) back.
pub struct ReaderGuard(Option<ThreadReader>);

impl Drop for ReaderGuard {
  fn drop(&mut self) {
    let previous = self.0.take();
    READER.with(|r| *r.borrow_mut() = previous);
  }
}

/// Calls `f` with the bytes of variable `name` (read at every call: a notification reads
/// `NOTIFY_SOCKET` every time, so changes to `process.env` take effect); `None` when unset.
/// Read directly on the thread that writes the environment (see the module comment), through
/// the thread's reader elsewhere, and directly as the last resort of a thread with no reader.
pub fn with_var<T>(name: &CStr, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
  if !reads_in_place() {
    let mut buf = Vec::new();
    match READER.with(|r| r.borrow().as_ref().map(|read| read(name, &mut buf))) {
      Some(true) => return Some(f(&buf)),
      Some(false) => return None,
      None => {}
    }
  }
  // A copy per call: measured within noise of reading `environ` in place (bench/NOTES.md).
  std::env::var_os(OsStr::from_bytes(name.to_bytes())).map(|v| f(v.as_bytes()))
}

/// The environment as the parsers' `lookup` function, read by [`with_var`]'s rules.
pub fn lookup(name: &str) -> Option<OsString> {
  let name = std::ffi::CString::new(name).ok()?;
  with_var(&name, |v| OsStr::from_bytes(v).to_os_string())
}

/// The value of `name` as UTF-8, or ERR_SD_NOTIFY_INVALID_ENV.
pub fn text<'a>(name: &'static str, raw: &'a OsStr) -> Result<&'a str> {
  raw.to_str().ok_or_else(|| NotifyError::InvalidEnvironment { name, reason: "it is not valid UTF-8".into() })
}

/// Strict decimal: ASCII digits only (no sign, no spaces, no `0x`), within `T`'s range, so
/// nothing the manager did not write is guessed.
pub fn decimal<T: FromStr>(text: &str) -> Option<T> {
  if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
    return None;
  }
  text.parse().ok()
}

/// [`decimal`] for variable `name`, or ERR_SD_NOTIFY_INVALID_ENV saying it is not `what`.
pub fn decimal_var<T: FromStr>(name: &'static str, text: &str, what: &str) -> Result<T> {
  decimal(text).ok_or_else(|| NotifyError::InvalidEnvironment { name, reason: format!("{text:?} is not {what}") })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn decimal_takes_digits_only() {
    assert_eq!(decimal::<u32>("42"), Some(42));
    assert_eq!(decimal::<u32>("007"), Some(7));
    for bad in ["", "+1", "-1", " 1", "1 ", "0x10", "1.0", "4294967296"] {
      assert_eq!(decimal::<u32>(bad), None, "{bad:?}");
    }
  }

  #[test]
  fn a_thread_reader_answers_for_its_thread_while_installed() {
    assert!(!on_main_thread());
    let guard = read_with(Box::new(|name, out| {
      if name.to_bytes() == b"SD_NOTIFY_RS_FROM_READER" {
        out.extend_from_slice(b"yes");
        true
      } else {
        false
      }
    }));
    assert_eq!(with_var(c"SD_NOTIFY_RS_FROM_READER", |v| v.to_vec()), Some(b"yes".to_vec()));
    assert_eq!(with_var(c"PATH", |_| ()), None, "the reader's answer, not the process environment");
    drop(guard);
    assert_eq!(with_var(c"SD_NOTIFY_RS_FROM_READER", |_| ()), None);
  }

  #[test]
  fn the_test_harness_thread_is_not_the_main_thread_but_reads_the_same_values() {
    // cargo test runs tests on spawned threads: the copying path must agree with the real env.
    assert!(!on_main_thread());
    assert_eq!(with_var(c"PATH", |v| v.to_vec()), std::env::var_os("PATH").map(|v| v.as_bytes().to_vec()));
    assert_eq!(with_var(c"SD_NOTIFY_RS_SURELY_UNSET", |_| ()), None);
  }
}
