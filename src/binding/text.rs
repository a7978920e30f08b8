//! Reading a JavaScript string argument without allocating: notifications are at most 4096
//! bytes, so a stack buffer holds any text that can be sent at all.

use std::mem::MaybeUninit;

use napi::bindgen_prelude::{JsValue, Unknown};
use napi::sys;

use super::error::{IntoJs, Result};
use crate::protocol::message::NOTIFY_BUFFER_MAX;
use crate::protocol::NotifyError;

/// Room for the longest text that fits a datagram, plus napi's NUL.
const CAPACITY: usize = NOTIFY_BUFFER_MAX + 1;

/// Calls `f` with the UTF-8 text of `value`, which must be a string (`key` names it in errors).
/// Text too long for any datagram is refused here with ERR_SD_NOTIFY_MESSAGE_TOO_LONG.
pub fn with_text<T>(key: &str, value: Unknown<'_>, f: impl FnOnce(&str) -> Result<T>) -> Result<T> {
  let (env, raw) = (value.value().env, value.raw());
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
      return Err(NotifyError::MessageTooLong { len: key.len() + 1 + full }).js();
    }
  }
  // SAFETY: napi initialised the first `copied` bytes.
  let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), copied) };
  // napi writes UTF-8 (lone surrogates become U+FFFD), so this does not fail in practice.
  let text = std::str::from_utf8(bytes).map_err(|_| NotifyError::value(key, "it is not valid UTF-8")).js()?;
  f(text)
}

/// [`with_text`] for an optional argument: `undefined` and `null` give `None`.
pub fn with_optional_text<T>(key: &str, value: Option<Unknown<'_>>, f: impl FnOnce(Option<&str>) -> Result<T>) -> Result<T> {
  match value {
    Some(v) => with_text(key, v, |s| f(Some(s))),
    None => f(None),
  }
}
