//! `journalSend`, the one function left as a raw N-API callback: napi-rs's generated entry for a
//! function with arguments opens a borrow scope and allocates on every call, which a logging loop
//! would pay per entry (what that costs now: `npm run bench`, part 2 and "Instructions per call";
//! bench/NOTES.md). It reads its arguments with `napi_get_cb_info` itself; the checks, the errors, the
//! Worker-thread environment and the panic boundary are the same as every other entry's. Every
//! other function is a plain `#[napi]` one (src/binding/verbs.rs). Its declaration is
//! lib/journal.js's concern (it is not part of the public API).

use std::ptr;

use napi::bindgen_prelude::{JsError, JsValue, Object};
use napi::{sys, Env};
use napi_derive::napi;

use super::env::this_thread;
use super::error::{guard, napi_error, Result};
use super::journal::journal_send;

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
