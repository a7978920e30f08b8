//! The notification verbs: one flag or one field each, with an optional status line. They were
//! raw N-API entries once, to save what napi-rs's generated entry costs per call; measured against
//! the connected `sendmsg` floor the safe entries napi-rs generates are within the goal
//! (`npm run bench`, part 1 and its instruction counts), so they are plain `#[napi]` functions
//! with one declaration, here.

use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

use super::args::{number, optional_string, string};
use super::env::this_thread;
use super::error::{guard, IntoJs, Result};
use crate::convert::{decimal_from_f64, usec_from_ms};
use sd_notify_protocol::assignment::Assignment;
use sd_notify_protocol::notify;

/// Sends `assignments` in one datagram.
fn send(assignments: &[Assignment<'_>]) -> Result<bool> {
  notify::send(assignments, &[]).js()
}

/// Tells the service manager that start-up is finished (`READY=1`), with an optional status
/// line. With `Type=notify`, `systemctl start` returns only now.
///
/// Returns `true` when sent, `false` when not running under a service manager
/// (`NOTIFY_SOCKET` unset). Throws on bad input (`ERR_SD_NOTIFY_*`; a `TypeError` for a wrong
/// type) or a socket error (errno name).
/// See https://www.freedesktop.org/software/systemd/man/sd_notify.html
#[napi(ts_args_type = "status?: string | undefined | null")]
pub fn ready(env: Env, status: Unknown) -> Result<bool> {
  guard("ready", || {
    let status = optional_string(&env, status, "ready(status)")?;
    let _thread_env = this_thread(&env);
    notify::ready(status.as_deref()).js()
  })
}

/// Tells the manager the service is reloading its configuration: `RELOADING=1` and
/// `MONOTONIC_USEC=<CLOCK_MONOTONIC now>` in one datagram (what `Type=notify-reload` requires).
/// Call `ready()` when the reload is done.
#[napi(ts_args_type = "status?: string | undefined | null")]
pub fn reloading(env: Env, status: Unknown) -> Result<bool> {
  guard("reloading", || {
    let status = optional_string(&env, status, "reloading(status)")?;
    let _thread_env = this_thread(&env);
    notify::reloading(status.as_deref()).js()
  })
}

/// Tells the manager the service is shutting down (`STOPPING=1`).
#[napi(ts_args_type = "status?: string | undefined | null")]
pub fn stopping(env: Env, status: Unknown) -> Result<bool> {
  guard("stopping", || {
    let status = optional_string(&env, status, "stopping(status)")?;
    let _thread_env = this_thread(&env);
    notify::stopping(status.as_deref()).js()
  })
}

/// Sets the one-line status shown by `systemctl status` (`STATUS=`). An empty string clears it.
#[napi(ts_args_type = "text: string")]
pub fn status(env: Env, text: Unknown) -> Result<bool> {
  guard("status", || {
    let text = string(&env, text, "status(text)")?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::Status(&text)])
  })
}

/// Sends one watchdog keep-alive ping (`WATCHDOG=1`). Prefer `startWatchdog()`, which only pings
/// while the event loop is responsive.
#[napi]
pub fn watchdog(env: Env) -> Result<bool> {
  guard("watchdog", || {
    let _thread_env = this_thread(&env);
    send(&[Assignment::Watchdog])
  })
}

/// Makes the manager act as if the watchdog timeout expired, now (`WATCHDOG=trigger`, systemd >= 243).
#[napi]
pub fn watchdog_trigger(env: Env) -> Result<bool> {
  guard("watchdogTrigger", || {
    let _thread_env = this_thread(&env);
    send(&[Assignment::WatchdogTrigger])
  })
}

/// Reports a D-Bus style error name (`BUSERROR=`), e.g. `org.freedesktop.DBus.Error.TimedOut`.
#[napi(ts_args_type = "name: string")]
pub fn bus_error(env: Env, name: Unknown) -> Result<bool> {
  guard("busError", || {
    let name = string(&env, name, "busError(name)")?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::BusError(&name)])
  })
}

/// Changes the watchdog timeout at run time (`WATCHDOG_USEC=`, systemd >= 233), in milliseconds.
/// The `WATCHDOG_USEC` environment variable is not updated.
#[napi(ts_args_type = "ms: number")]
pub fn set_watchdog_timeout(env: Env, ms: Unknown) -> Result<bool> {
  guard("setWatchdogTimeout", || {
    let usec = usec_from_ms("WATCHDOG_USEC", number(&env, ms, "setWatchdogTimeout(ms)")?).js()?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::WatchdogUsec(usec)])
  })
}

/// Asks for `ms` more milliseconds on the current start, stop or runtime timeout, counted from
/// now (`EXTEND_TIMEOUT_USEC=`, systemd >= 236). Send again before it runs out.
#[napi(ts_args_type = "ms: number")]
pub fn extend_timeout(env: Env, ms: Unknown) -> Result<bool> {
  guard("extendTimeout", || {
    let usec = usec_from_ms("EXTEND_TIMEOUT_USEC", number(&env, ms, "extendTimeout(ms)")?).js()?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::ExtendTimeoutUsec(usec)])
  })
}

/// Tells the manager that the service's main process is now `pid` (`MAINPID=`).
#[napi(ts_args_type = "pid: number")]
pub fn main_pid(env: Env, pid: Unknown) -> Result<bool> {
  guard("mainPid", || {
    let pid = decimal_from_f64("MAINPID", number(&env, pid, "mainPid(pid)")?).js()?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::MainPid(pid)])
  })
}

/// Reports an errno-style failure code (`ERRNO=`), shown as `StatusErrno`.
#[napi(ts_args_type = "code: number")]
pub fn errno(env: Env, code: Unknown) -> Result<bool> {
  guard("errno", || {
    let code = decimal_from_f64("ERRNO", number(&env, code, "errno(code)")?).js()?;
    let _thread_env = this_thread(&env);
    send(&[Assignment::Errno(code)])
  })
}
