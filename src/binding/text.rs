//! Reading a string argument of the raw `journalSend` entry (src/binding/fast.rs) without
//! allocating when it fits a stack buffer of a datagram's size; the `#[napi]` functions read
//! theirs through src/binding/args.rs.

use std::mem::MaybeUninit;

use napi::sys;

use super::error::{IntoJs, Result};
use sd_notify_protocol::message::NOTIFY_BUFFER_MAX;
use sd_notify_protocol::NotifyError;

/// Room for the longest text that fits a datagram, plus napi's NUL.
const CAPACITY: usize = NOTIFY_BUFFER_MAX + 1;

/// Calls `f` with the UTF-8 bytes of string `raw` (`key` names it in errors): from a stack
/// buffer when it fits one datagram, else from the heap (a journal entry may be large).
///
/// # Safety
/// `raw` is a live value of `env`, and this runs on `env`'s thread inside a call into the addon.
pub unsafe fn with_raw_bytes<T>(
  env: sys::napi_env,
  raw: sys::napi_value,
  key: &str,
  f: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
  let mut buf = [MaybeUninit::<u8>::uninit(); CAPACITY];
  let mut copied = 0usize;
  // SAFETY: buf has CAPACITY bytes; napi writes at most CAPACITY - 1 bytes and a NUL into it.
  let status = unsafe { sys::napi_get_value_string_utf8(env, raw, buf.as_mut_ptr().cast(), CAPACITY, &mut copied) };
  if status != sys::Status::napi_ok {
    return Err(NotifyError::value(key, "it must be a string")).js();
  }
  // napi stops before a multi-byte character that would not fit: near the end means maybe cut.
  if copied + 4 >= CAPACITY {
    let mut full = 0usize;
    // SAFETY: a null buffer asks napi for the length only.
    unsafe { sys::napi_get_value_string_utf8(env, raw, std::ptr::null_mut(), 0, &mut full) };
    if full > copied {
      let mut heap = Vec::<u8>::with_capacity(full + 1);
      // SAFETY: heap has room for `full` bytes and napi's NUL; napi initialises `copied` of them.
      unsafe {
        sys::napi_get_value_string_utf8(env, raw, heap.as_mut_ptr().cast(), full + 1, &mut copied);
        heap.set_len(copied);
      }
      return f(&heap);
    }
  }
  // SAFETY: napi initialised the first `copied` bytes.
  f(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), copied) })
}

/// `raw` unless it is missing, `undefined` or `null`.
///
/// # Safety
/// As for [`with_raw_bytes`].
pub unsafe fn present(env: sys::napi_env, raw: Option<sys::napi_value>) -> Option<sys::napi_value> {
  let raw = raw?;
  let mut kind = sys::ValueType::napi_undefined;
  // SAFETY: per the caller's contract.
  let status = unsafe { sys::napi_typeof(env, raw, &mut kind) };
  let nullish = status == sys::Status::napi_ok && (kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null);
  (!nullish).then_some(raw)
}

/// Calls `f` with the UTF-8 text of `raw`, which must be a string (`key` names it in errors).
/// Text too long for any datagram is refused with ERR_SD_NOTIFY_MESSAGE_TOO_LONG.
///
/// # Safety
/// As for [`with_raw_bytes`].
pub unsafe fn with_raw_text<T>(
  env: sys::napi_env,
  raw: sys::napi_value,
  key: &str,
  f: impl FnOnce(&str) -> Result<T>,
) -> Result<T> {
  // SAFETY: per the caller's contract.
  unsafe {
    with_raw_bytes(env, raw, key, |bytes| {
      if bytes.len() > NOTIFY_BUFFER_MAX {
        return Err(NotifyError::MessageTooLong { len: key.len() + 1 + bytes.len() }).js();
      }
      // napi writes UTF-8 (lone surrogates become U+FFFD), so this does not fail in practice.
      f(std::str::from_utf8(bytes).map_err(|_| NotifyError::value(key, "it is not valid UTF-8")).js()?)
    })
  }
}
