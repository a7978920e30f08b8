//! The native half of `startWatchdog()`: a timer thread that keeps time and sends, and a weak
//! threadsafe function through which it asks the event loop for proof of life. The thread pings
//! only for the event loop's answer to its latest request, so a blocked loop stops the pings.
//! This file is the JavaScript side (`Watchdog`, `startWatchdogTimer`); the thread and the state
//! it shares with the event loop are in watchdog_timer.rs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeCallContext, UnknownReturnValue};
use napi::Env;
use napi_derive::napi;

use super::error::{guard, IntoJs, Result};
use super::teardown::TeardownHook;
use super::watchdog_options::{option_error, WatchdogOptions};
use super::watchdog_timer::{Event, RequestArgs, RequestFn, Shared, Slot, Timer};
use crate::convert::usec_from_ms;
use sd_notify_protocol::address;
use sd_notify_protocol::sync::lock;
use sd_notify_protocol::watchdog::{Action, FailureAction, Heartbeat, Timing, Verdict};
use sd_notify_protocol::{notify_socket, watchdog_env, NotifyError};

fn ms(d: Duration) -> f64 {
  d.as_secs_f64() * 1000.0
}

fn since_epoch_ms(t: SystemTime) -> f64 {
  t.duration_since(UNIX_EPOCH).map(ms).unwrap_or(0.0)
}

fn optional_usec(key: &str, ms: Option<f64>) -> sd_notify_protocol::Result<Option<u64>> {
  ms.map(|ms| usec_from_ms(key, ms)).transpose()
}

fn napi_failure(what: &str, e: napi::Error) -> napi::Error<String> {
  super::error::to_js(NotifyError::WatchdogStart { reason: format!("{what}: {}", e.reason) })
}

/// What the watchdog has done so far.
#[napi(object)]
pub struct WatchdogStats {
  /// Whether the timer thread still runs (false after `stop()`).
  pub running: bool,
  /// Requests for proof of life sent to the event loop (one per interval).
  pub requests: f64,
  /// `WATCHDOG=1` pings sent.
  pub pings_sent: f64,
  /// Requests that earned no ping: the event loop answered too late, or the health check failed.
  pub pings_skipped: f64,
  /// Requests the event loop had not answered when the next one was due (a blocked or slow loop).
  pub late_responses: f64,
  /// Failed health checks (threw, rejected, timed out or returned `false`).
  pub health_check_failures: f64,
  /// `WATCHDOG=trigger` messages sent (with `failureAction: 'trigger'`).
  pub triggers_sent: f64,
  /// Pings or triggers the notification socket refused (each also reported to `onError`).
  pub send_errors: f64,
  /// When the last `WATCHDOG=1` was sent, in milliseconds since the epoch (like `Date.now()`).
  pub last_ping_at: Option<f64>,
  /// How long the event loop took to run the last request, in milliseconds.
  pub last_response_ms: Option<f64>,
  /// The worst event-loop response time seen, in milliseconds.
  pub max_response_ms: Option<f64>,
}

/// A running watchdog heartbeat, made by `startWatchdog()`. A timer thread asks the event loop
/// for proof of life every `intervalMs`; only the loop's answer (after the optional health
/// check) sends `WATCHDOG=1`, so a blocked loop stops the pings and the manager restarts the
/// service. It never keeps the process alive.
#[napi]
pub struct Watchdog {
  shared: Arc<Shared>,
  timing: Timing,
  failure_action: FailureAction,
  /// The environment cleanup hook's data (a `Weak<Shared>`), until `stop()` removes the hook.
  teardown: Mutex<Option<TeardownHook>>,
}

#[napi]
impl Watchdog {
  /// Stops the heartbeat: wakes the timer thread and waits for it to end, so no ping is sent
  /// after it returns. That is at once, unless a ping is waiting for room in a manager's full
  /// queue (at most 5 s). Idempotent. A new `startWatchdog()` is possible afterwards.
  #[napi]
  pub fn stop(&self, env: Env) -> Result<()> {
    guard("Watchdog.stop", || {
      self.shared.stop();
      if let Some(hook) = lock(&self.teardown).take() {
        hook.remove(&env);
      }
      Ok(())
    })
  }

  /// Whether the timer thread still runs.
  #[napi(getter)]
  pub fn running(&self) -> Result<bool> {
    guard("Watchdog.running", || Ok(lock(&self.shared.state).running))
  }

  /// Milliseconds between two requests for proof of life.
  #[napi(getter)]
  pub fn interval_ms(&self) -> Result<f64> {
    guard("Watchdog.intervalMs", || Ok(ms(self.timing.interval)))
  }

  /// The manager's watchdog timeout (`WATCHDOG_USEC`) in milliseconds, as read at start.
  #[napi(getter)]
  pub fn timeout_ms(&self) -> Result<f64> {
    guard("Watchdog.timeoutMs", || Ok(ms(self.timing.timeout)))
  }

  /// Milliseconds the health check may take before it counts as failed.
  #[napi(getter)]
  pub fn health_check_timeout_ms(&self) -> Result<f64> {
    guard("Watchdog.healthCheckTimeoutMs", || Ok(ms(self.timing.health_check_timeout)))
  }

  /// What a failed health check sends: nothing (`'skip'`) or `WATCHDOG=trigger` (`'trigger'`).
  #[napi(getter, ts_return_type = "'skip' | 'trigger'")]
  pub fn failure_action(&self) -> Result<String> {
    guard("Watchdog.failureAction", || Ok(self.failure_action.as_str().to_owned()))
  }

  /// The counters so far.
  #[napi]
  pub fn stats(&self) -> Result<WatchdogStats> {
    guard("Watchdog.stats", || {
      let state = lock(&self.shared.state);
      let c = state.heartbeat.counters();
      Ok(WatchdogStats {
        running: state.running,
        requests: c.requests as f64,
        pings_sent: c.pings_sent as f64,
        pings_skipped: c.pings_skipped as f64,
        late_responses: c.late_responses as f64,
        health_check_failures: c.health_check_failures as f64,
        triggers_sent: c.triggers_sent as f64,
        send_errors: c.send_errors as f64,
        last_ping_at: c.last_ping_at.map(since_epoch_ms),
        last_response_ms: c.last_response.map(ms),
        max_response_ms: c.max_response.map(ms),
      })
    })
  }

  /// The event loop's answer to request `seq` (called by lib/watchdog.js). Returns whether it
  /// answered the latest request and so will be acted on.
  #[napi(skip_typescript)]
  pub fn acknowledge(&self, seq: u32, healthy: bool) -> Result<bool> {
    guard("Watchdog.acknowledge", || {
      let verdict = if healthy { Verdict::Healthy } else { Verdict::Unhealthy };
      Ok(self.shared.acknowledge(seq, verdict))
    })
  }
}

impl Drop for Watchdog {
  fn drop(&mut self) {
    // Normally a no-op: the request callback keeps this object alive while the thread runs.
    self.shared.stop();
  }
}

/// The native entry point of `startWatchdog()` (lib/watchdog.js). `null` when the manager asked
/// for no watchdog from this process or there is no NOTIFY_SOCKET: no thread is created then.
#[napi(skip_typescript)]
pub fn start_watchdog_timer(
  env: &Env,
  options: WatchdogOptions<'_>,
  on_request: Function<'_, RequestArgs, UnknownReturnValue>,
) -> Result<Option<Watchdog>> {
  guard("startWatchdogTimer", || {
    let _thread_env = super::env::this_thread(env);
    // Options are checked even outside a watchdog, so mistakes show in development too.
    let interval_usec = optional_usec("intervalMs", options.interval_ms).js()?;
    let check_usec = optional_usec("healthCheckTimeoutMs", options.health_check_timeout_ms).js()?;
    let failure_action = FailureAction::parse(options.failure_action.as_deref().unwrap_or("skip")).map_err(option_error).js()?;

    let Some(settings) = watchdog_env::watchdog_enabled().js()? else { return Ok(None) };
    let Some(address) = notify_socket::with_notify_socket(address::parse) else { return Ok(None) };
    let address = address.js()?;
    let timing = Timing::new(settings.timeout_usec, interval_usec, check_usec).map_err(option_error).js()?;
    let slot = Slot::claim().js()?;
    let ping = Action::Ping.datagram().js()?;
    let trigger = Action::Trigger.datagram().js()?;

    let shared = Arc::new(Shared::new(Heartbeat::new(timing, failure_action, Instant::now())));

    let on_js_thread = shared.clone();
    let has_health_check = options.health_check.is_some();
    let request: RequestFn = on_request
      .build_threadsafe_function::<Event>()
      .weak::<true>()
      .callee_handled::<false>()
      .build_callback(move |ctx: ThreadsafeCallContext<Event>| Ok(on_js_thread.on_event(ctx.value, has_health_check)))
      .map_err(|e| napi_failure("creating the watchdog's threadsafe function", e))?;

    // Only a Weak: a stopped watchdog's state is not kept alive by the hook.
    let weak = Arc::downgrade(&shared);
    let teardown = TeardownHook::add(env, "the watchdog's teardown", move || {
      if let Some(shared) = weak.upgrade() {
        shared.stop();
      }
    })
    .map_err(|e| napi_failure("registering the watchdog's cleanup hook", e))?;

    Timer { shared: shared.clone(), request, address, ping, trigger, _slot: slot }.spawn().js()?;
    Ok(Some(Watchdog { shared, timing, failure_action, teardown: Mutex::new(Some(teardown)) }))
  })
}
