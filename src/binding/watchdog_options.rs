//! `startWatchdog()`'s options: declared here, with their docs, once (index.d.ts is generated from
//! them), and the core's errors about them named after the options.

use napi::bindgen_prelude::{FromNapiValue, Object, Unknown};
use napi::{sys, ValueType};
use napi_derive::napi;

use super::args::{own, type_of};
use sd_notify_protocol::NotifyError;

/// Options of `startWatchdog()`. Every field is optional; the defaults suit a service run with
/// `WatchdogSec=`. (The numbers and the failure action are checked here; the two functions are
/// lib/watchdog.js's to call, on the event loop.)
#[napi(object, object_from_js = false)]
pub struct WatchdogOptions<'a> {
  /// Milliseconds between two requests for proof of life (whole milliseconds). Default: half the
  /// manager's watchdog timeout (`WATCHDOG_USEC`), as systemd advises. Must be shorter than the
  /// timeout, else `startWatchdog()` throws `ERR_SD_NOTIFY_WATCHDOG_INTERVAL`.
  pub interval_ms: Option<f64>,
  /// Runs on the event loop at each request; `WATCHDOG=1` is sent only when it passes. Sync or
  /// async. It fails when it throws, rejects, returns or resolves `false`, or takes longer than
  /// `healthCheckTimeoutMs`; any other result is healthy. Without one, the event loop answering
  /// is the whole proof of life.
  #[napi(ts_type = "() => unknown | Promise<unknown>")]
  pub health_check: Option<Unknown<'a>>,
  /// Milliseconds `healthCheck` may take (whole milliseconds). Default: half the interval. Must be
  /// shorter than the interval (a later answer could never earn a ping), else
  /// `ERR_SD_NOTIFY_INVALID_NUMBER`.
  pub health_check_timeout_ms: Option<f64>,
  /// What a failed health check does. `'skip'` (default): no ping this time; the manager restarts
  /// the service only if no healthy answer comes within its timeout. `'trigger'`: send
  /// `WATCHDOG=trigger` (systemd >= 243), so the manager acts as if the timeout expired, now.
  #[napi(ts_type = "'skip' | 'trigger'")]
  pub failure_action: Option<String>,
  /// Called on the event loop with every failure: a failed health check (code
  /// `ERR_SD_NOTIFY_WATCHDOG_UNHEALTHY`, with the thrown value as `cause`, or `ETIMEDOUT`) and a
  /// ping the socket refused (an errno name such as `ECONNREFUSED`). Default: `process.emitWarning`.
  /// What it throws becomes an uncaught exception.
  #[napi(ts_type = "(error: Error & { code: string }) => void")]
  pub on_error: Option<Unknown<'a>>,
}

/// Read by their own properties only (napi-rs's generated conversion would take inherited ones).
/// lib/watchdog.js has checked the types; a wrong one here is ERR_SD_NOTIFY_INVALID_VALUE.
impl<'a> FromNapiValue for WatchdogOptions<'a> {
  unsafe fn from_napi_value(env: sys::napi_env, raw: sys::napi_value) -> napi::Result<Self> {
    // SAFETY: napi-rs calls this with the current call's env and one of its arguments.
    let value: Unknown<'a> = unsafe { Unknown::from_raw_unchecked(env, raw) };
    if type_of(&value) != ValueType::Object {
      return Ok(Self {
        interval_ms: None,
        health_check: None,
        health_check_timeout_ms: None,
        failure_action: None,
        on_error: None,
      });
    }
    let object = Object::from_unknown(value)?;
    let number = |key: &str| own(&object, key)?.map(f64::from_unknown).transpose();
    Ok(Self {
      interval_ms: number("intervalMs")?,
      health_check: own(&object, "healthCheck")?,
      health_check_timeout_ms: number("healthCheckTimeoutMs")?,
      failure_action: own(&object, "failureAction")?.map(String::from_unknown).transpose()?,
      on_error: own(&object, "onError")?,
    })
  }
}

/// The core names the watchdog's settings in its own words; errors name the JavaScript option.
pub fn option_error(e: NotifyError) -> NotifyError {
  let option = |key: String| match key.as_str() {
    "interval" => "intervalMs".to_owned(),
    "health check timeout" => "healthCheckTimeoutMs".to_owned(),
    "failure action" => "failureAction".to_owned(),
    _ => key,
  };
  match e {
    NotifyError::InvalidNumber { key, reason } => NotifyError::InvalidNumber { key: option(key), reason },
    NotifyError::InvalidValue { key, reason } => NotifyError::InvalidValue { key: option(key), reason },
    other => other,
  }
}
