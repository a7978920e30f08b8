//! The environment on a Worker's thread: read from that thread's own `process.env` through N-API
//! for the duration of one call. Node writes the C environment only from the main thread
//! (`process.env.X = ...`; a Worker's `process.env` is a copy unless created with `SHARE_ENV`), so
//! the core reads it in place there (see the core's env.rs for why a read must not overlap a
//! write). Under Bun, whose `process.env` assignments never reach the C environment, the main
//! thread reads this way too. Threads without JavaScript (the watchdog's) get what they need up
//! front and never read the environment.

use std::ffi::CStr;
use std::sync::atomic::{AtomicU8, Ordering};

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{Env, ValueType};

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
  let env = *env;
  // Called synchronously inside an N-API call on `env`'s own thread (the guard lives only as
  // long as that call), so `env` is valid and a handle scope is open.
  Some(read_with(Box::new(move |name: &CStr, out: &mut Vec<u8>| read_process_env(&env, name, out))))
}

/// Whether the main thread may read the C environment in place: false under Bun (detected once,
/// by `process.versions.bun`, on the main thread), true under Node.js and Deno, whose
/// `process.env` writes go to the C environment.
fn main_thread_reads_in_place(env: &Env) -> bool {
  match MAIN_THREAD.load(Ordering::Relaxed) {
    IN_PLACE => true,
    THROUGH_JS => false,
    _ => {
      let bun = is_bun(env);
      if bun {
        read_main_thread_through_reader();
      }
      MAIN_THREAD.store(if bun { THROUGH_JS } else { IN_PLACE }, Ordering::Relaxed);
      !bun
    }
  }
}

/// Whether `process.versions.bun` exists (the process runs under Bun).
fn is_bun(env: &Env) -> bool {
  let versions = || -> napi::Result<bool> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let versions: Object = process.get_named_property("versions")?;
    versions.has_named_property("bun")
  };
  versions().unwrap_or(false)
}

/// `process.env[name]` as UTF-8 bytes into `out`; false when it is not a string (unset).
fn read_process_env(env: &Env, name: &CStr, out: &mut Vec<u8>) -> bool {
  let read = || -> napi::Result<Option<String>> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let vars: Object = process.get_named_property("env")?;
    let Ok(name) = name.to_str() else { return Ok(None) };
    let value: Unknown = vars.get_named_property(name)?;
    Ok(if value.get_type()? == ValueType::String { Some(String::from_unknown(value)?) } else { None })
  };
  match read() {
    Ok(Some(value)) => {
      out.clear();
      out.extend_from_slice(value.as_bytes());
      true
    }
    _ => false,
  }
}
