//! The arguments of a call into the raw `journalSend` entry (src/binding/fast.rs), read without
//! napi-rs's per-call scope: a string fitting one datagram is read into a stack buffer, not
//! allocated. Their invariant (the env and values N-API passed, used on its thread while the
//! call lasts) is stated once, where a [`RawCall`] is made; reading them is then safe, and each
//! N-API call below relies on it. The `#[napi]` functions read theirs through args.rs.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr;

use napi::bindgen_prelude::{Array, FromNapiValue};
use napi::{sys, Env};

use super::error::{invalid_value, napi_error, IntoJs, Result};
use sd_notify_protocol::message::NOTIFY_BUFFER_MAX;
use sd_notify_protocol::NotifyError;

/// Room for the longest text that fits a datagram, plus napi's NUL.
const CAPACITY: usize = NOTIFY_BUFFER_MAX + 1;

/// One call into a raw entry: its env, for as long as the call lasts (`'call`), on its thread.
#[derive(Clone, Copy)]
pub struct RawCall<'call> {
  env: sys::napi_env,
  call: PhantomData<&'call ()>,
}

/// An argument of a [`RawCall`], alive as long as the call.
#[derive(Clone, Copy)]
pub struct RawValue<'call> {
  raw: sys::napi_value,
  call: PhantomData<&'call ()>,
}

impl<'call> RawCall<'call> {
  /// The call and its first `N` arguments (`None` for one not passed).
  ///
  /// # Safety
  /// `env` and `info` are those N-API passed to the entry now running, on this thread, and what
  /// is returned is not kept beyond the entry's return (`'call` ends there).
  pub unsafe fn from_callback<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
  ) -> Result<(Self, [Option<RawValue<'call>>; N])> {
    let (mut argc, mut argv) = (N, [ptr::null_mut(); N]);
    // SAFETY: valid env and info (the contract), and room for the N arguments asked for.
    let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
    if status != sys::Status::napi_ok {
      return Err(napi_error(napi::Error::new(napi::Status::from(status), "reading the arguments".to_owned())));
    }
    let mut args = [None; N];
    for (arg, &raw) in args.iter_mut().zip(&argv).take(argc) {
      *arg = Some(RawValue { raw, call: PhantomData });
    }
    Ok((Self { env, call: PhantomData }, args))
  }

  /// The call's environment.
  pub fn env(&self) -> Env {
    Env::from_raw(self.env)
  }

  /// `value` unless it is missing, `undefined` or `null`.
  pub fn present(&self, value: Option<RawValue<'call>>) -> Option<RawValue<'call>> {
    let value = value?;
    let mut kind = sys::ValueType::napi_undefined;
    // SAFETY: this call's env and value, on its thread (RawCall's invariant).
    let status = unsafe { sys::napi_typeof(self.env, value.raw, &mut kind) };
    let nullish = status == sys::Status::napi_ok && (kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null);
    (!nullish).then_some(value)
  }

  /// `value` as an unsigned 32-bit number, `None` when it is missing or not a number.
  pub fn uint32(&self, value: Option<RawValue<'call>>) -> Option<u32> {
    let mut n = 0u32;
    // SAFETY: this call's env and value, on its thread (RawCall's invariant); napi refuses
    // (napi_number_expected) anything but a number.
    let read = value.is_some_and(|v| unsafe { sys::napi_get_value_uint32(self.env, v.raw, &mut n) } == sys::Status::napi_ok);
    read.then_some(n)
  }

  /// `value` as an Array (`key` names it in errors).
  pub fn array(&self, value: RawValue<'call>, key: &str) -> Result<Array<'call>> {
    // SAFETY: this call's env and value, on its thread (RawCall's invariant); napi-rs checks
    // that it is an array.
    unsafe { Array::from_napi_value(self.env, value.raw) }.map_err(|e| invalid_value(key, e))
  }

  /// Calls `f` with the UTF-8 bytes of string `value` (`key` names it in errors): from a stack
  /// buffer when it fits one datagram, else from the heap (a journal entry may be large).
  pub fn with_bytes<T>(&self, value: RawValue<'call>, key: &str, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
    let mut buf = [MaybeUninit::<u8>::uninit(); CAPACITY];
    let mut copied = 0usize;
    // SAFETY: RawCall's invariant; buf has CAPACITY bytes, and napi writes at most CAPACITY - 1
    // bytes and a NUL into it.
    let status = unsafe { sys::napi_get_value_string_utf8(self.env, value.raw, buf.as_mut_ptr().cast(), CAPACITY, &mut copied) };
    if status != sys::Status::napi_ok {
      return Err(NotifyError::value(key, "it must be a string")).js();
    }
    // napi stops before a multi-byte character that would not fit: near the end means maybe cut.
    if copied + 4 >= CAPACITY {
      let mut full = 0usize;
      // SAFETY: RawCall's invariant; a null buffer asks napi for the length only.
      unsafe { sys::napi_get_value_string_utf8(self.env, value.raw, ptr::null_mut(), 0, &mut full) };
      if full > copied {
        let mut heap = Vec::<u8>::with_capacity(full + 1);
        // SAFETY: RawCall's invariant; heap has room for `full` bytes and napi's NUL, and napi
        // initialises the `copied` bytes it reports.
        unsafe {
          sys::napi_get_value_string_utf8(self.env, value.raw, heap.as_mut_ptr().cast(), full + 1, &mut copied);
          heap.set_len(copied);
        }
        return f(&heap);
      }
    }
    // SAFETY: napi initialised the first `copied` bytes of buf.
    f(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), copied) })
  }

  /// Calls `f` with the UTF-8 text of `value`, which must be a string (`key` names it in
  /// errors). Text too long for any datagram is refused with ERR_SD_NOTIFY_MESSAGE_TOO_LONG.
  pub fn with_text<T>(&self, value: RawValue<'call>, key: &str, f: impl FnOnce(&str) -> Result<T>) -> Result<T> {
    self.with_bytes(value, key, |bytes| {
      if bytes.len() > NOTIFY_BUFFER_MAX {
        return Err(NotifyError::MessageTooLong { len: key.len() + 1 + bytes.len() }).js();
      }
      // napi writes UTF-8 (lone surrogates become U+FFFD), so this does not fail in practice.
      f(std::str::from_utf8(bytes).map_err(|_| NotifyError::value(key, "it is not valid UTF-8")).js()?)
    })
  }
}
