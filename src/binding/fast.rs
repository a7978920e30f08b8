//! The notification functions, as raw N-API callbacks. napi-rs's generated entry for a function
//! with arguments opens a borrow scope on every call (about 350 instructions and two allocations),
//! and even its entry without arguments measured about 1,000 instructions more per call than
//! these (BENCHMARKS.md, "Instructions per call"). These read their one argument with
//! `napi_get_cb_info` themselves; the checks, the errors, the Worker-thread environment and the
//! panic boundary are the same as every other entry's. Their TypeScript declarations are in
//! types/header.d.ts.

use std::ptr;

use napi::bindgen_prelude::{JsError, JsValue, Object};
use napi::{sys, Env};
use napi_derive::napi;

use super::env::this_thread;
use super::error::{guard, napi_error, IntoJs, Result};
use super::journal::journal_send;
use super::text::{present, with_optional_raw_text, with_raw_text, with_raw_text_after};
use crate::convert::{decimal_from_f64, usec_from_ms};
use sd_notify_protocol::assignment::Assignment;
use sd_notify_protocol::{notify, NotifyError};

/// What a raw entry does with its arguments (`None` for one not passed).
type Body<const N: usize, R> = unsafe fn(sys::napi_env, [Option<sys::napi_value>; N]) -> Result<R>;

/// What a raw entry returns to JavaScript.
trait ToJs {
  /// # Safety
  /// `env` is the current call's.
  unsafe fn to_js(self, env: sys::napi_env, out: &mut sys::napi_value);
}

impl ToJs for bool {
  unsafe fn to_js(self, env: sys::napi_env, out: &mut sys::napi_value) {
    // SAFETY: per the trait's contract.
    unsafe { sys::napi_get_boolean(env, self, out) };
  }
}

/// `None` is `undefined`: no N-API call at all (a callback's null result is `undefined`).
impl ToJs for Option<u32> {
  unsafe fn to_js(self, env: sys::napi_env, out: &mut sys::napi_value) {
    if let Some(n) = self {
      // SAFETY: per the trait's contract.
      unsafe { sys::napi_create_uint32(env, n, out) };
    }
  }
}

/// Runs `body` as the entry `during`: its arguments, the guard, the result or the thrown error.
///
/// # Safety
/// Called by N-API with the `env` and `info` of the current call.
unsafe fn call<const N: usize, R: ToJs>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
  during: &'static str,
  body: Body<N, R>,
) -> sys::napi_value {
  let outcome = guard(during, || {
    let (mut argc, mut argv) = (N, [ptr::null_mut(); N]);
    if N > 0 {
      // SAFETY: valid env and info (this call's), and room for the N arguments asked for.
      let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
      if status != sys::Status::napi_ok {
        return Err(napi_error(napi::Error::new(napi::Status::from(status), "reading the arguments".to_owned())));
      }
    }
    let _thread_env = this_thread(&Env::from_raw(env));
    let mut args = [None; N];
    for (i, arg) in args.iter_mut().enumerate().take(argc) {
      *arg = Some(argv[i]);
    }
    // SAFETY: the arguments are this call's, alive for the call.
    unsafe { body(env, args) }
  });
  let mut result = ptr::null_mut();
  match outcome {
    // SAFETY: valid env, and an out-pointer to a local.
    Ok(value) => unsafe { value.to_js(env, &mut result) },
    // SAFETY: valid env; the error becomes this call's exception.
    Err(e) => unsafe { JsError::from(e).throw_into(env) },
  }
  result
}

/// A finite number argument, else ERR_SD_NOTIFY_INVALID_NUMBER for `key`.
unsafe fn number(env: sys::napi_env, raw: Option<sys::napi_value>, key: &str) -> Result<f64> {
  let mut value = f64::NAN;
  let read = match raw {
    // SAFETY: per `Body`'s contract; fails (napi_number_expected) for anything but a number.
    Some(raw) => (unsafe { sys::napi_get_value_double(env, raw, &mut value) }) == sys::Status::napi_ok,
    None => false,
  };
  if read {
    Ok(value)
  } else {
    Err(NotifyError::number(key, "it must be a number")).js()
  }
}

unsafe fn watchdog(_: sys::napi_env, _: [Option<sys::napi_value>; 0]) -> Result<bool> {
  notify::send(&[Assignment::Watchdog], &[]).js()
}

unsafe fn watchdog_trigger(_: sys::napi_env, _: [Option<sys::napi_value>; 0]) -> Result<bool> {
  notify::send(&[Assignment::WatchdogTrigger], &[]).js()
}

/// `flag` (or none) + `STATUS=` with the text of `raw`, written in place after the flag's
/// constant prefix when it fits a stack buffer; otherwise through `general`, which words the error.
unsafe fn with_status_text(
  env: sys::napi_env,
  raw: sys::napi_value,
  flag: Option<Assignment<'_>>,
  general: impl FnOnce(&str) -> sd_notify_protocol::Result<bool>,
) -> Result<bool> {
  if let Some(prefix) = notify::status_prefix(flag) {
    // SAFETY (both calls): per `Body`'s contract.
    if let Some(sent) =
      unsafe { with_raw_text_after(env, raw, "STATUS", prefix, |datagram, at| notify::send_with_status(datagram, at).js()) }
    {
      return sent;
    }
  }
  unsafe { with_raw_text(env, raw, "STATUS", |s| general(s).js()) }
}

/// `flag` with the optional status `arg`: `send` is the verb's general path (`notify::ready`, ...).
unsafe fn flag_with_status(
  env: sys::napi_env,
  arg: Option<sys::napi_value>,
  flag: Assignment<'static>,
  send: fn(Option<&str>) -> sd_notify_protocol::Result<bool>,
) -> Result<bool> {
  // SAFETY (both calls): per `Body`'s contract.
  match unsafe { present(env, arg) } {
    Some(raw) => unsafe { with_status_text(env, raw, Some(flag), |s| send(Some(s))) },
    None => send(None).js(),
  }
}

unsafe fn ready(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  // SAFETY (here and below): per `Body`'s contract.
  unsafe { flag_with_status(env, arg, Assignment::Ready, notify::ready) }
}

unsafe fn reloading(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  unsafe { with_optional_raw_text(env, arg, "STATUS", |s| notify::reloading(s).js()) }
}

unsafe fn stopping(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  unsafe { flag_with_status(env, arg, Assignment::Stopping, notify::stopping) }
}

unsafe fn status(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  let Some(raw) = arg else { return Err(NotifyError::value("STATUS", "it must be a string")).js() };
  unsafe { with_status_text(env, raw, None, |s| notify::send(&[Assignment::Status(s)], &[])) }
}

unsafe fn bus_error(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  let Some(raw) = arg else { return Err(NotifyError::value("BUSERROR", "it must be a string")).js() };
  unsafe { with_raw_text(env, raw, "BUSERROR", |s| notify::send(&[Assignment::BusError(s)], &[]).js()) }
}

/// A millisecond argument as microseconds for `key`.
unsafe fn usec(env: sys::napi_env, arg: Option<sys::napi_value>, key: &str) -> Result<u64> {
  usec_from_ms(key, unsafe { number(env, arg, key) }?).js()
}

/// A non-negative integer argument for `key`.
unsafe fn decimal(env: sys::napi_env, arg: Option<sys::napi_value>, key: &str) -> Result<u64> {
  decimal_from_f64(key, unsafe { number(env, arg, key) }?).js()
}

unsafe fn set_watchdog_timeout(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  notify::send(&[Assignment::WatchdogUsec(unsafe { usec(env, arg, "WATCHDOG_USEC") }?)], &[]).js()
}

unsafe fn extend_timeout(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  notify::send(&[Assignment::ExtendTimeoutUsec(unsafe { usec(env, arg, "EXTEND_TIMEOUT_USEC") }?)], &[]).js()
}

unsafe fn main_pid(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  notify::send(&[Assignment::MainPid(unsafe { decimal(env, arg, "MAINPID") }?)], &[]).js()
}

unsafe fn errno(env: sys::napi_env, [arg]: [Option<sys::napi_value>; 1]) -> Result<bool> {
  notify::send(&[Assignment::Errno(unsafe { decimal(env, arg, "ERRNO") }?)], &[]).js()
}

type Entry = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// One `extern "C"` entry per function, each calling [`call`] with its name and body.
macro_rules! entries {
  ($($entry:ident => $body:ident as $js:literal / $c_js:literal),* $(,)?) => {
    $(
      unsafe extern "C" fn $entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
        // SAFETY: N-API calls this with the current call's env and info.
        unsafe { call(env, info, $js, $body) }
      }
    )*
    const ENTRIES: &[(&std::ffi::CStr, Entry)] = &[$(($c_js, $entry)),*];
  };
}

entries! {
  watchdog_entry => watchdog as "watchdog" / c"watchdog",
  watchdog_trigger_entry => watchdog_trigger as "watchdogTrigger" / c"watchdogTrigger",
  ready_entry => ready as "ready" / c"ready",
  reloading_entry => reloading as "reloading" / c"reloading",
  stopping_entry => stopping as "stopping" / c"stopping",
  status_entry => status as "status" / c"status",
  bus_error_entry => bus_error as "busError" / c"busError",
  set_watchdog_timeout_entry => set_watchdog_timeout as "setWatchdogTimeout" / c"setWatchdogTimeout",
  extend_timeout_entry => extend_timeout as "extendTimeout" / c"extendTimeout",
  main_pid_entry => main_pid as "mainPid" / c"mainPid",
  errno_entry => errno as "errno" / c"errno",
  journal_send_entry => journal_send as "journalSend" / c"journalSend",
}

/// Adds the raw entries to the module's exports, beside the ones napi-rs generates.
#[napi(module_exports)]
pub fn add_raw_entries(exports: Object, env: Env) -> napi::Result<()> {
  for &(name, entry) in ENTRIES {
    let mut function = ptr::null_mut();
    // SAFETY: valid env and exports, a NUL-terminated name (length NAPI_AUTO_LENGTH), and a
    // callback that stays valid (static code).
    let status = unsafe {
      let created = sys::napi_create_function(env.raw(), name.as_ptr(), -1, Some(entry), ptr::null_mut(), &mut function);
      if created == sys::Status::napi_ok {
        sys::napi_set_named_property(env.raw(), exports.raw(), name.as_ptr(), function)
      } else {
        created
      }
    };
    if status != sys::Status::napi_ok {
      return Err(napi::Error::new(napi::Status::from(status), format!("exporting {name:?}")));
    }
  }
  Ok(())
}
