//! The notification functions exported to JavaScript.

use std::time::Duration;

use napi::bindgen_prelude::{BigInt, FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

use super::args::{boolean, number, numbers, optional_number_or, options, own, own_keys, string, type_of, WrongType};
use super::env::this_thread;
use super::error::{guard, invalid_value, napi_error, settle, IntoJs, Result, Settle};
use crate::convert::{decimal_from_f64, usec_from_ms};
use sd_notify_protocol::assignment::Assignment;
use sd_notify_protocol::message::Message;
use sd_notify_protocol::{barrier, booted, notify, notify_socket, watchdog_env, NotifyError};

/// Options of `notify()`.
#[napi(object, object_from_js = false)]
pub struct NotifyOptions {
  /// File descriptors to pass along (SCM_RIGHTS), e.g. with `FDSTORE: 1`. At most 253.
  pub fds: Option<Vec<f64>>,
}

/// Turns a JavaScript number into a descriptor, refusing negative or fractional numbers.
fn fd_from_js(n: f64) -> Result<i32> {
  let fd = decimal_from_f64("fd", n)
    .map_err(|_| NotifyError::InvalidFd { reason: format!("{n} is not a non-negative integer") })
    .js()?;
  i32::try_from(fd).map_err(|_| NotifyError::InvalidFd { reason: format!("{n} is out of range") }).js()
}

impl NotifyOptions {
  /// The options from `value` (own properties only).
  fn from_js(env: &Env, value: Option<Unknown>) -> Result<Self> {
    let Some(object) = options(env, value, "notify(options)")? else { return Ok(Self { fds: None }) };
    let fds = own(&object, "fds").map_err(napi_error)?.map(|v| numbers(env, v, "notify(options.fds)")).transpose()?;
    Ok(Self { fds })
  }

  /// `fds` as descriptors.
  fn fds(self) -> Result<Vec<i32>> {
    self.fds.unwrap_or_default().into_iter().map(fd_from_js).collect()
  }
}

/// One field's value as the text sent; `None` for `undefined` and `null` ("not this field").
fn value_to_string(env: &Env, key: &str, value: Unknown) -> Result<Option<String>> {
  let wrong = |v: &Unknown| WrongType::new(&format!("notify(fields.{key})"), "a string, number, bigint or boolean", v).throw(env);
  let read = |e: napi::Error| invalid_value(key, e);
  Ok(Some(match type_of(&value) {
    ValueType::Undefined | ValueType::Null => return Ok(None),
    ValueType::String => String::from_unknown(value).map_err(read)?,
    ValueType::Number => decimal_from_f64(key, f64::from_unknown(value).map_err(read)?).js()?.to_string(),
    ValueType::Boolean => if bool::from_unknown(value).map_err(read)? { "1" } else { "0" }.into(),
    ValueType::BigInt => {
      let (negative, v, lossless) = BigInt::from_unknown(value).map_err(read)?.get_u64();
      if negative || !lossless {
        return Err(NotifyError::number(key, "the bigint is negative or above 2^64-1")).js();
      }
      v.to_string()
    }
    _ => return Err(wrong(&value)),
  }))
}

/// Sends any assignments in one datagram, in the object's key order, e.g.
/// `notify({ READY: 1, STATUS: 'serving', X_APP_EPOCH: 7 })`. Known keys are checked against
/// what the manager accepts; other keys must match `[A-Z_][A-Z0-9_]*`. Numbers must be
/// non-negative integers, `true` sends `1`; `undefined` fields are skipped. Only the object's own
/// enumerable properties are read, never inherited ones. Nothing is sent if anything is invalid.
#[napi(ts_args_type = "fields: NotifyFields, options?: NotifyOptions")]
pub fn notify(env: Env, fields: Unknown, options: Option<Unknown>) -> Result<bool> {
  guard("notify", || {
    let fields: Object = match type_of(&fields) {
      ValueType::Object => Object::from_unknown(fields).map_err(napi_error)?,
      _ => return Err(WrongType::new("notify(fields)", "an object of KEY: value", &fields).throw(&env)),
    };
    let fds = NotifyOptions::from_js(&env, options)?.fds()?;
    let _thread_env = this_thread(&env);
    let mut msg = Message::new();
    for key in own_keys(&fields).map_err(|e| invalid_value("fields", e))? {
      let value: Unknown = fields.get_named_property(&key).map_err(|e| invalid_value(&key, e))?;
      let Some(value) = value_to_string(&env, &key, value)? else { continue };
      msg.add(Assignment::Other(&key, &value)).js()?;
    }
    notify::send_message(&msg, &fds).js()
  })
}

/// Options of `fdStore()`.
#[napi(object, object_from_js = false)]
pub struct FdStoreOptions {
  /// `FDNAME=`: the name the descriptor comes back under in `listenFds()` after a restart.
  /// ASCII, 1..255 characters, no control characters, no `:`. Default: systemd names it `stored`.
  pub name: Option<String>,
  /// `false` sends `FDPOLL=0` (systemd >= 246): keep the descriptor even when it reports
  /// EPOLLHUP/EPOLLERR. Default `true`: systemd drops a stored descriptor that hangs up.
  pub poll: Option<bool>,
}

impl FdStoreOptions {
  /// The options from `value` (own properties only).
  fn from_js(env: &Env, value: Option<Unknown>) -> Result<Self> {
    let Some(object) = options(env, value, "fdStore(options)")? else { return Ok(Self { name: None, poll: None }) };
    let name = own(&object, "name").map_err(napi_error)?.map(|v| string(env, v, "fdStore(options.name)")).transpose()?;
    let poll = own(&object, "poll").map_err(napi_error)?.map(|v| boolean(env, v, "fdStore(options.poll)")).transpose()?;
    Ok(Self { name, poll })
  }
}

/// Hands `fd` to the service manager's fd store (`FDSTORE=1`, the fd passed with SCM_RIGHTS,
/// systemd >= 219): systemd keeps a copy while the service restarts and passes it to the next
/// process, which finds it in `listenFds()` under `options.name`. The unit needs
/// `FileDescriptorStoreMax=` > 0, or systemd drops the descriptor silently.
///
/// Returns `true` when sent, `false` when not under a service manager. Throws
/// `ERR_SD_NOTIFY_INVALID_FD` for a negative, fractional or closed descriptor and
/// `ERR_SD_NOTIFY_INVALID_FDNAME` for a name systemd would refuse, also when not under a manager.
/// See https://www.freedesktop.org/software/systemd/man/sd_pid_notify_with_fds.html
#[napi(ts_args_type = "fd: number, options?: FdStoreOptions | undefined | null")]
pub fn fd_store(env: Env, fd: Unknown, options: Option<Unknown>) -> Result<bool> {
  guard("fdStore", || {
    let fd = fd_from_js(number(&env, fd, "fdStore(fd)")?)?;
    let options = FdStoreOptions::from_js(&env, options)?;
    let _thread_env = this_thread(&env);
    notify::fd_store(fd, options.name.as_deref(), options.poll.unwrap_or(true)).js()
  })
}

/// Asks the manager to close its stored descriptors named `name` (`FDSTOREREMOVE=1` + `FDNAME=`,
/// systemd >= 236). Returns `true` when sent, `false` when not under a manager; throws
/// `ERR_SD_NOTIFY_INVALID_FDNAME` for a name systemd would refuse.
#[napi(ts_args_type = "name: string")]
pub fn fd_store_remove(env: Env, name: Unknown) -> Result<bool> {
  guard("fdStoreRemove", || {
    let name = string(&env, name, "fdStoreRemove(name)")?;
    let _thread_env = this_thread(&env);
    notify::fd_store_remove(&name).js()
  })
}

/// Resolves `true` once the service manager has processed every notification sent before it
/// (`BARRIER=1`, systemd >= 246), `false` when not under a manager; rejects with code `ETIMEDOUT`
/// after `timeoutMs` (default 5000). The wait happens off the event loop.
#[napi(ts_args_type = "timeoutMs?: number | undefined | null", ts_return_type = "Promise<boolean>")]
pub fn barrier<'env>(env: &'env Env, timeout_ms: Option<Unknown>) -> Result<Object<'env>> {
  guard("barrier", || {
    let _thread_env = this_thread(env);
    // Before the deferred: the environment's end hook then runs after napi-rs's own for it.
    super::env_end::track(env, None).map_err(napi_error)?;
    let (deferred, promise) = env.create_deferred::<bool, Settle<bool>>().map_err(napi_error)?;
    // A wrong type rejects, as every other refusal of a promise-returning function does.
    let timeout_ms = match optional_number_or(timeout_ms, "barrier(timeoutMs)") {
      Ok(ms) => ms.unwrap_or(5000.0),
      Err(wrong) => {
        deferred.resolve(Box::new(move |env| Err(wrong.rejection(env))));
        return Ok(promise);
      }
    };
    let started = usec_from_ms("timeoutMs", timeout_ms)
      .map(Duration::from_micros)
      .and_then(|timeout| barrier::send_barrier().map(|pending| (pending, timeout)));
    match started {
      Err(e) => settle(deferred, Err(e)),
      Ok((None, _)) => settle(deferred, Ok(false)),
      // Waited on by the process's one poller thread, not a thread per barrier.
      Ok((Some(pending), timeout)) => {
        let done = Box::new(move |outcome| settle(deferred, outcome));
        sd_notify_protocol::waits::barrier(pending, timeout, super::env_end::owner(env), done);
      }
    }
    Ok(promise)
  })
}

/// `true` when `NOTIFY_SOCKET` is set, i.e. notifications will be sent.
#[napi]
pub fn available(env: Env) -> Result<bool> {
  guard("available", || {
    let _thread_env = this_thread(&env);
    Ok(notify_socket::with_notify_socket(|_| ()).is_some())
  })
}

/// What the service manager asked of the watchdog.
#[napi(object)]
pub struct WatchdogInfo {
  /// The watchdog timeout in milliseconds (`WATCHDOG_USEC` / 1000).
  pub timeout_ms: f64,
  /// The watchdog timeout in microseconds, as the manager gave it.
  pub timeout_usec: f64,
  /// `WATCHDOG_PID`, when set (it is this process's pid then).
  pub pid: Option<u32>,
}

/// Whether the manager expects watchdog pings from this process (sd_watchdog_enabled):
/// `null` when `WATCHDOG_USEC` is unset or `WATCHDOG_PID` names another process. Throws
/// `ERR_SD_NOTIFY_INVALID_ENV` when the variables are malformed.
#[napi]
pub fn watchdog_enabled(env: Env) -> Result<Option<WatchdogInfo>> {
  guard("watchdogEnabled", || {
    let _thread_env = this_thread(&env);
    Ok(watchdog_env::watchdog_enabled().js()?.map(|s| WatchdogInfo {
      timeout_ms: s.timeout_usec as f64 / 1000.0,
      timeout_usec: s.timeout_usec as f64,
      pid: s.pid,
    }))
  })
}

/// Whether this machine was booted with systemd (`/run/systemd/system/` exists; sd_booted).
#[napi]
pub fn booted() -> Result<bool> {
  guard("booted", || Ok(booted::booted()))
}
