//! The environment on a Worker's thread: read from that thread's own `process.env` through N-API
//! for the duration of one call. Node writes the C environment only from the main thread
//! (`process.env.X = ...`; a Worker's `process.env` is a copy unless created with `SHARE_ENV`), so
//! the core reads it in place there (see the core's env.rs for why a read must not overlap a
//! write). Under Bun, whose `process.env` assignments never reach the C environment, the main
//! thread reads this way too. Threads without JavaScript (the watchdog's) get what they need up
//! front and never read the environment.

use std::ffi::CStr;
use std::sync::atomic::{AtomicU8, Ordering};

use napi::{sys, Env};

use sd_notify_protocol::env::{on_main_thread, read_main_thread_through_reader, read_with, reads_in_place, ReaderGuard};

const UNKNOWN: u8 = 0;
const IN_PLACE: u8 = 1;
const THROUGH_JS: u8 = 2;
/// How the main thread reads the environment, settled by the first call that asks.
static MAIN_THREAD: AtomicU8 = AtomicU8::new(UNKNOWN);

/// On a thread other than the main one, makes the core read `process.env` of `env`'s thread
/// until the guard drops; on the main thread, nothing (a thread-local test and an atomic load),
/// except under a runtime whose `process.env` is not the C environment (Bun).
pub fn this_thread(env: &Env) -> Option<ReaderGuard> {
  // Settled (the main thread, not Bun): one comparison. The first call on the main thread asks
  // the runtime before the core may read in place.
  if MAIN_THREAD.load(Ordering::Relaxed) == IN_PLACE && reads_in_place() {
    return None;
  }
  if on_main_thread() && main_thread_reads_in_place(env) {
    return None;
  }
  let raw = env.raw();
  Some(read_with(Box::new(move |name: &CStr, out: &mut Vec<u8>| {
    // SAFETY: called synchronously inside an N-API call on `raw`'s own thread (the guard lives
    // only as long as that call), so `raw` is valid and a handle scope is open.
    unsafe { read_process_env(raw, name, out) }
  })))
}

/// Whether the main thread may read the C environment in place: false under Bun (detected once,
/// by `process.versions.bun`, on the main thread), true under Node.js and Deno, whose
/// `process.env` writes go to the C environment.
fn main_thread_reads_in_place(env: &Env) -> bool {
  match MAIN_THREAD.load(Ordering::Relaxed) {
    IN_PLACE => true,
    THROUGH_JS => false,
    _ => {
      // SAFETY: called on the main thread inside an N-API call on `env`, with a scope open.
      let bun = unsafe { is_bun(env.raw()) };
      if bun {
        read_main_thread_through_reader();
      }
      MAIN_THREAD.store(if bun { THROUGH_JS } else { IN_PLACE }, Ordering::Relaxed);
      !bun
    }
  }
}

/// Whether `process.versions.bun` exists (the process runs under Bun).
unsafe fn is_bun(env: sys::napi_env) -> bool {
  let ok = |s: sys::napi_status| s == sys::Status::napi_ok;
  let (mut global, mut process, mut versions, mut has) =
    (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), false);
  // SAFETY (all calls): valid env and out-pointers to locals, per the caller's contract.
  unsafe {
    ok(sys::napi_get_global(env, &mut global))
      && ok(sys::napi_get_named_property(env, global, c"process".as_ptr(), &mut process))
      && ok(sys::napi_get_named_property(env, process, c"versions".as_ptr(), &mut versions))
      && ok(sys::napi_has_named_property(env, versions, c"bun".as_ptr(), &mut has))
      && has
  }
}

/// `process.env[name]` as UTF-8 bytes into `out`; false when it is not a string (unset).
unsafe fn read_process_env(env: sys::napi_env, name: &CStr, out: &mut Vec<u8>) -> bool {
  let ok = |s: sys::napi_status| s == sys::Status::napi_ok;
  let (mut global, mut process, mut vars, mut value) =
    (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
  // SAFETY (all calls): valid env and out-pointers to locals, per the caller's contract.
  unsafe {
    if !ok(sys::napi_get_global(env, &mut global))
      || !ok(sys::napi_get_named_property(env, global, c"process".as_ptr(), &mut process))
      || !ok(sys::napi_get_named_property(env, process, c"env".as_ptr(), &mut vars))
      || !ok(sys::napi_get_named_property(env, vars, name.as_ptr(), &mut value))
    {
      return false;
    }
    let mut kind = 0;
    if !ok(sys::napi_typeof(env, value, &mut kind)) || kind != sys::ValueType::napi_string {
      return false;
    }
    let mut len = 0usize;
    if !ok(sys::napi_get_value_string_utf8(env, value, std::ptr::null_mut(), 0, &mut len)) {
      return false;
    }
    out.clear();
    out.resize(len + 1, 0);
    let mut copied = 0usize;
    if !ok(sys::napi_get_value_string_utf8(env, value, out.as_mut_ptr().cast(), len + 1, &mut copied)) {
      return false;
    }
    out.truncate(copied);
  }
  true
}
