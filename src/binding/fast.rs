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
use super::journal::journal_send;
use super::raw_call::RawCall;

/// `journalSend`'s entry: its arguments, the Worker-thread environment, the panic boundary, and
/// the result (`None`: `undefined`, no N-API call at all) or the thrown error.
///
/// # Safety
/// Called by N-API with the `env` and `info` of the current call, on its thread.
unsafe extern "C" fn journal_send_entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  let outcome = super::error::guard("journalSend", || {
    // SAFETY: N-API's env and info for the call now running; the call and its arguments are
    // used only inside it.
    let (call, args) = unsafe { RawCall::from_callback::<4>(env, info) }?;
    let _thread_env = this_thread(&call.env());
    journal_send(call, args)
  });
  let mut result = ptr::null_mut();
  match outcome {
    Ok(None) => {}
    // SAFETY: this call's env, and an out-pointer to a local.
    Ok(Some(code)) => unsafe {
      sys::napi_create_uint32(env, code, &mut result);
    },
    // SAFETY: this call's env; the error becomes this call's exception.
    Err(e) => unsafe { JsError::from(e).throw_into(env) },
  }
  result
}

type Entry = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The raw entries, by name.
const ENTRIES: &[(&std::ffi::CStr, Entry)] = &[(c"journalSend", journal_send_entry)];

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
