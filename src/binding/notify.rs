//! The notification functions exported to JavaScript.

use std::time::Duration;

use napi::bindgen_prelude::{BigInt, Either4, Object};
use napi::Env;
use napi_derive::napi;

use super::env::this_thread;
use super::error::{guard, invalid_value, napi_error, settle, IntoJs, Result, Settle};
use crate::convert::{decimal_from_f64, usec_from_ms};
use sd_notify_protocol::assignment::Assignment;
use sd_notify_protocol::message::Message;
use sd_notify_protocol::{barrier, booted, notify, notify_socket, watchdog_env, NotifyError};

/// Options of `notify()`.
#[napi(object)]
pub struct NotifyOptions {
  /// File descriptors to pass along (SCM_RIGHTS), e.g. with `FDSTORE: 1`. At most 253.
  pub fds: Option<Vec<f64>>,
}

/// Turns a JavaScript number into a descriptor, refusing negative or fractional numbers.
pub(crate) fn fd_from_js(n: f64) -> Result<i32> {
  let fd = decimal_from_f64("fd", n)
    .map_err(|_| NotifyError::InvalidFd { reason: format!("{n} is not a non-negative integer") })
    .js()?;
  i32::try_from(fd).map_err(|_| NotifyError::InvalidFd { reason: format!("{n} is out of range") }).js()
}

/// Turns `options.fds` into descriptors.
pub(crate) fn fds_from_js(fds: Option<Vec<f64>>) -> Result<Vec<i32>> {
  fds.unwrap_or_default().into_iter().map(fd_from_js).collect()
}

fn value_to_string(key: &str, value: Either4<String, f64, bool, BigInt>) -> sd_notify_protocol::Result<String> {
  Ok(match value {
    Either4::A(s) => s,
    Either4::B(n) => decimal_from_f64(key, n)?.to_string(),
    Either4::C(true) => "1".into(),
    Either4::C(false) => "0".into(),
    Either4::D(b) => {
      let (negative, v, lossless) = b.get_u64();
      if negative || !lossless {
        return Err(NotifyError::InvalidNumber { key: key.into(), reason: "the bigint is negative or above 2^64-1".into() });
      }
      v.to_string()
    }
  })
}

/// Sends any assignments in one datagram, in the object's key order, e.g.
/// `notify({ READY: 1, STATUS: 'serving', X_APP_EPOCH: 7 })`. Known keys are checked against
/// what the manager accepts; other keys must match `[A-Z_][A-Z0-9_]*`. Numbers must be
/// non-negative integers, `true` sends `1`; `undefined` fields are skipped. Nothing is sent if anything is invalid.
#[napi(ts_args_type = "fields: NotifyFields, options?: NotifyOptions")]
pub fn notify(env: Env, fields: Object, options: Option<NotifyOptions>) -> Result<bool> {
  guard("notify", || {
    let _thread_env = this_thread(&env);
    let fds = fds_from_js(options.and_then(|o| o.fds))?;
    let mut msg = Message::new();
    for key in Object::keys(&fields).map_err(|e| invalid_value("fields", e))? {
      let value: Option<Either4<String, f64, bool, BigInt>> =
        fields.get(&key).map_err(|_| NotifyError::value(&key, "values must be strings, numbers, bigints or booleans")).js()?;
      // `undefined` and `null` mean "not this field", as with optional properties.
      let Some(value) = value else { continue };
      let value = value_to_string(&key, value).js()?;
      msg.add(Assignment::Other(&key, &value)).js()?;
    }
    notify::send_message(&msg, &fds).js()
  })
}

/// Options of `fdStore()`.
#[napi(object)]
pub struct FdStoreOptions {
  /// `FDNAME=`: the name the descriptor comes back under in `listenFds()` after a restart.
  /// ASCII, 1..255 characters, no control characters, no `:`. Default: systemd names it `stored`.
  pub name: Option<String>,
  /// `false` sends `FDPOLL=0` (systemd >= 246): keep the descriptor even when it reports
  /// EPOLLHUP/EPOLLERR. Default `true`: systemd drops a stored descriptor that hangs up.
  pub poll: Option<bool>,
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
#[napi]
pub fn fd_store(env: Env, fd: f64, options: Option<FdStoreOptions>) -> Result<bool> {
  guard("fdStore", || {
    let _thread_env = this_thread(&env);
    let fd = fd_from_js(fd)?;
    let (name, poll) = match options {
      Some(o) => (o.name, o.poll.unwrap_or(true)),
      None => (None, true),
    };
    notify::fd_store(fd, name.as_deref(), poll).js()
  })
}

/// Asks the manager to close its stored descriptors named `name` (`FDSTOREREMOVE=1` + `FDNAME=`,
/// systemd >= 236). Returns `true` when sent, `false` when not under a manager; throws
/// `ERR_SD_NOTIFY_INVALID_FDNAME` for a name systemd would refuse.
#[napi]
pub fn fd_store_remove(env: Env, name: String) -> Result<bool> {
  guard("fdStoreRemove", || {
    let _thread_env = this_thread(&env);
    notify::fd_store_remove(&name).js()
  })
}

/// Resolves `true` once the service manager has processed every notification sent before it
/// (`BARRIER=1`, systemd >= 246), `false` when not under a manager; rejects with code `ETIMEDOUT`
/// after `timeoutMs` (default 5000). The wait happens off the event loop.
#[napi(ts_return_type = "Promise<boolean>")]
pub fn barrier(env: &Env, timeout_ms: Option<f64>) -> Result<Object<'_>> {
  guard("barrier", || {
    let _thread_env = this_thread(env);
    // Before the deferred: the environment's end hook then runs after napi-rs's own for it.
    super::env_end::track(env, None).map_err(napi_error)?;
    let (deferred, promise) = env.create_deferred::<bool, Settle<bool>>().map_err(napi_error)?;
    let started = usec_from_ms("timeoutMs", timeout_ms.unwrap_or(5000.0))
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
