//! The process environment: the one place the core reads it, and the one strict decimal parser
//! its variables share.
//!
//! Thread safety: `getenv`'s result is read in place, and musl's `setenv` frees a replaced value,
//! so a read must not overlap a write. Node writes the environment only from the main thread
//! (`process.env.X = ...`; a Worker's `process.env` is a copy unless created with `SHARE_ENV`), so
//! the core reads it in place on the main thread only. On another JavaScript thread (a Worker) the
//! binding installs, for the duration of each call, a reader of that thread's own `process.env`
//! (Node serialises those reads itself). Threads without JavaScript (the watchdog's) get what
//! they need up front and never read the environment.
//!
//! Runtimes whose `process.env` is not the C environment (Bun keeps assignments to itself:
//! `getenv` never sees them) make the main thread read through such a reader too: the binding
//! detects that once and calls [`read_main_thread_through_reader`].

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
/// each call made from a Worker).
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

/// Calls `f` with the bytes of variable `name` read in place (no copy: a notification reads
/// `NOTIFY_SOCKET` every time, so changes to `process.env` take effect); `None` when unset.
/// On the main thread only (see the module comment); elsewhere through the thread's reader, and
/// a copy as the last resort of a thread with no JavaScript.
pub fn with_var<T>(name: &CStr, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
  if !reads_in_place() {
    let mut buf = Vec::new();
    let found = READER.with(|r| r.borrow().as_ref().map(|read| read(name, &mut buf)));
    return match found {
      Some(true) => Some(f(&buf)),
      Some(false) => None,
      None => std::env::var_os(OsStr::from_bytes(name.to_bytes())).map(|v| f(v.as_bytes())),
    };
  }
  // SAFETY: on the main thread (checked above), where nothing writes the environment while this
  // runs; the result is NULL or a NUL-terminated string valid until the next write, which (on
  // the main thread) cannot happen while `f` runs.
  let raw = unsafe { getenv_in_place(name.to_bytes()) };
  if raw.is_null() {
    return None;
  }
  // SAFETY: non-null and NUL-terminated (see above).
  Some(f(unsafe { CStr::from_ptr(raw) }.to_bytes()))
}

extern "C" {
  /// The C environment (`environ(7)`), a NULL-terminated array of `NAME=value` strings: glibc and
  /// musl both export it under this name.
  static environ: *const *const libc::c_char;
}

/// `getenv(name)`: every notification reads `NOTIFY_SOCKET`, and glibc's `getenv` spends about
/// twice the instructions per variable that this does (it compares two bytes of every variable,
/// assembled into a number, before anything else); this compares one byte, and the rest of the
/// name only for a variable whose first byte matched.
///
/// # Safety
/// No thread may write the environment while this runs (see the module comment); `name` holds
/// neither NUL nor `=` (a variable's name cannot).
unsafe fn getenv_in_place(name: &[u8]) -> *const libc::c_char {
  let Some((&first, rest)) = name.split_first() else { return std::ptr::null() };
  // SAFETY: (all reads) `environ` is NULL or a NULL-terminated array of NUL-terminated strings,
  // not written meanwhile (the caller's contract). Each byte read in an entry comes after bytes
  // that matched the name's, none of which is NUL: it lies within the entry, its NUL included.
  unsafe {
    let mut at = environ;
    if at.is_null() {
      return std::ptr::null();
    }
    loop {
      let entry = *at;
      if entry.is_null() {
        return std::ptr::null();
      }
      if *entry as u8 == first {
        let mut i = 0;
        while i < rest.len() && *entry.add(1 + i) as u8 == rest[i] {
          i += 1;
        }
        if i == rest.len() && *entry.add(1 + i) as u8 == b'=' {
          return entry.add(2 + i);
        }
      }
      at = at.add(1);
    }
  }
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
  fn the_in_place_read_finds_what_getenv_finds() {
    // Every variable of this process, each name's prefixes and a longer name, and a few absent
    // names; the environment is only read here (a test that wrote it could race this one).
    let mut names: Vec<Vec<u8>> = vec![b"S".to_vec(), b"Z_SURELY_UNSET".to_vec(), b"NOTIFY_SOCKET_X".to_vec()];
    for (name, _) in std::env::vars_os() {
      let name = name.as_bytes().to_vec();
      if name.is_empty() || name.contains(&b'=') {
        continue;
      }
      for end in 1..=name.len() {
        names.push(name[..end].to_vec());
      }
      names.push([name.as_slice(), b"X"].concat());
    }
    assert!(names.len() > 20);
    for name in names {
      let c = std::ffi::CString::new(name.clone()).unwrap();
      // SAFETY: nothing in these tests writes the environment while it is read.
      let (ours, libc) = unsafe { (getenv_in_place(&name), libc::getenv(c.as_ptr())) };
      assert_eq!(ours, libc.cast_const(), "{}", String::from_utf8_lossy(&name));
    }
    // SAFETY: as above.
    assert!(unsafe { getenv_in_place(b"") }.is_null());
  }

  #[test]
  fn the_test_harness_thread_is_not_the_main_thread_but_reads_the_same_values() {
    // cargo test runs tests on spawned threads: the copying path must agree with the real env.
    assert!(!on_main_thread());
    assert_eq!(with_var(c"PATH", |v| v.to_vec()), std::env::var_os("PATH").map(|v| v.as_bytes().to_vec()));
    assert_eq!(with_var(c"SD_NOTIFY_RS_SURELY_UNSET", |_| ()), None);
  }
}
