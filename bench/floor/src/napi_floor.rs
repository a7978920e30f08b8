//! The floor inside Node: the least an N-API addon can do per notification. `watchdog()`,
//! `status(text)` and `ready()` each make one `sendmsg` of the same datagram as sd-notify-rs on a
//! socket opened, and connected to the address, once (as sd-notify-rs keeps its socket). Raw N-API (the symbols come from the `node`
//! binary at load time): no binding framework, no checks, no allocation.

use std::ffi::{c_char, c_void};
use std::os::raw::c_int;
use std::sync::OnceLock;

#[path = "addr.rs"]
mod addr;

type Env = *mut c_void;
type Value = *mut c_void;
type CallbackInfo = *mut c_void;
type Callback = unsafe extern "C" fn(Env, CallbackInfo) -> Value;

extern "C" {
  fn napi_create_function(env: Env, name: *const c_char, len: usize, cb: Callback, data: *mut c_void, result: *mut Value) -> c_int;
  fn napi_set_named_property(env: Env, object: Value, name: *const c_char, value: Value) -> c_int;
  fn napi_get_boolean(env: Env, value: bool, result: *mut Value) -> c_int;
  fn napi_get_cb_info(env: Env, info: CallbackInfo, argc: *mut usize, argv: *mut Value, this: *mut Value, data: *mut *mut c_void) -> c_int;
  fn napi_get_value_string_utf8(env: Env, value: Value, buf: *mut c_char, size: usize, result: *mut usize) -> c_int;
}

struct Target {
  fd: c_int,
}

// The socket and address, from NOTIFY_SOCKET at the first call.
static TARGET: OnceLock<Target> = OnceLock::new();

fn target() -> &'static Target {
  TARGET.get_or_init(|| {
    let raw = std::env::var_os("NOTIFY_SOCKET").expect("NOTIFY_SOCKET");
    let (sa, len) = addr::sockaddr(std::os::unix::ffi::OsStrExt::as_bytes(raw.as_os_str()));
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert_eq!(unsafe { libc::connect(fd, &sa as *const _ as *const _, len) }, 0, "connect to NOTIFY_SOCKET");
    Target { fd }
  })
}

unsafe fn send(env: Env, payload: &[u8]) -> Value {
  let t = target();
  let mut iov = libc::iovec { iov_base: payload.as_ptr() as *mut _, iov_len: payload.len() };
  let mut msg: libc::msghdr = std::mem::zeroed();
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  let ok = libc::sendmsg(t.fd, &msg, libc::MSG_NOSIGNAL) >= 0;
  let mut result = std::ptr::null_mut();
  napi_get_boolean(env, ok, &mut result);
  result
}

unsafe extern "C" fn watchdog(env: Env, _info: CallbackInfo) -> Value {
  send(env, b"WATCHDOG=1")
}

unsafe extern "C" fn ready(env: Env, _info: CallbackInfo) -> Value {
  send(env, b"READY=1")
}

unsafe extern "C" fn status(env: Env, info: CallbackInfo) -> Value {
  let mut argc = 1usize;
  let mut arg = std::ptr::null_mut();
  napi_get_cb_info(env, info, &mut argc, &mut arg, std::ptr::null_mut(), std::ptr::null_mut());
  // Not zeroed: only the bytes written are sent.
  let mut buf = std::mem::MaybeUninit::<[u8; 4096]>::uninit();
  let p = buf.as_mut_ptr() as *mut u8;
  std::ptr::copy_nonoverlapping(b"STATUS=".as_ptr(), p, 7);
  let mut n = 0usize;
  napi_get_value_string_utf8(env, arg, p.add(7) as *mut c_char, 4096 - 7, &mut n);
  send(env, std::slice::from_raw_parts(p, 7 + n))
}

#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: Env, exports: Value) -> Value {
  let fns: [(&[u8], Callback); 3] = [(b"watchdog\0", watchdog), (b"status\0", status), (b"ready\0", ready)];
  for (name, cb) in fns {
    let mut f = std::ptr::null_mut();
    napi_create_function(env, name.as_ptr() as *const c_char, name.len() - 1, cb, std::ptr::null_mut(), &mut f);
    napi_set_named_property(env, exports, name.as_ptr() as *const c_char, f);
  }
  exports
}
