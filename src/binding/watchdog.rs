//! The native half of `startWatchdog()`: a timer thread that keeps time and sends, and a weak
//! threadsafe function through which it asks the event loop for proof of life. The thread pings
//! only for the event loop's answer to its latest request, so a blocked loop stops the pings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi::{Env, Status};
use napi_derive::napi;
use nix::errno::Errno;

use super::error::{guard, IntoJs, Result};
use super::teardown::TeardownHook;
use super::watchdog_options::{option_error, WatchdogOptions};
use crate::convert::usec_from_ms;
use sd_notify_protocol::address::{self, NotifyAddress};
use sd_notify_protocol::sync::{contain, lock};
use sd_notify_protocol::watchdog::{Action, FailureAction, Heartbeat, Request, Timing, Verdict};
use sd_notify_protocol::{notify_socket, watchdog_env, NotifyError};

/// One watchdog per process: the manager gives a process one WATCHDOG_USEC to honour.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The JavaScript request callback's arguments: `(seq, errorCode, errorMessage)`. `seq` is the
/// request to acknowledge (null when there is nothing to answer); the others report a failure.
/// `FnArgs` spreads the tuple into three arguments (a bare tuple would arrive as one array).
type RequestArgs = FnArgs<(Option<u32>, Option<String>, Option<String>)>;

/// What the timer thread tells the event loop.
enum Event {
  Request,
  Error(NotifyError),
}

/// Weak: it never keeps the process alive. Errors are not passed as a first argument. Both are
/// spelled out because the builder and the type disagree on the `CalleeHandled` default.
type RequestFn = ThreadsafeFunction<Event, UnknownReturnValue, RequestArgs, Status, false, true, 0>;

struct State {
  heartbeat: Heartbeat,
  stopping: bool,
  running: bool,
}

pub(crate) struct Shared {
  state: Mutex<State>,
  wake: Condvar,
  thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
  /// Wakes the thread at once and waits for it to end. Idempotent; never called from the thread.
  pub(crate) fn stop(&self) {
    lock(&self.state).stopping = true;
    self.wake.notify_all();
    let handle = lock(&self.thread).take();
    if let Some(handle) = handle {
      // Err only if the thread panicked; it has ended either way.
      let _ = handle.join();
    }
  }
}

/// The process's one watchdog slot, released when the thread (or a failed start) lets go of it.
struct Slot;

impl Slot {
  fn claim() -> sd_notify_protocol::Result<Self> {
    RUNNING
      .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
      .map(|_| Slot)
      .map_err(|_| NotifyError::WatchdogRunning)
  }
}

impl Drop for Slot {
  fn drop(&mut self) {
    RUNNING.store(false, Ordering::Release);
  }
}

/// Everything the timer thread owns. The address was read at start: getenv on this thread
/// would race with Node's setenv on the JavaScript thread.
struct Timer {
  shared: Arc<Shared>,
  request: RequestFn,
  address: NotifyAddress,
  ping: Vec<u8>,
  trigger: Vec<u8>,
  _slot: Slot,
}

impl Timer {
  /// Queues `event` on the event loop; false once the environment is gone (the call then
  /// returns `napi_closing`), as after a worker's termination: nobody is left to answer.
  fn tell(&self, event: Event) -> bool {
    self.request.call(event, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
  }

  /// The thread's body: `run`, and if it panics, the watchdog stops (no more pings, as when the
  /// event loop hangs: the manager's timeout then restarts the service) and `onError` hears why.
  fn run_contained(self) {
    if let Err(e) = contain("the watchdog's timer thread", || self.run()) {
      lock(&self.shared.state).running = false;
      self.tell(Event::Error(e));
    }
  }

  fn run(&self) {
    let mut state = lock(&self.shared.state);
    while !state.stopping {
      if let Some(action) = state.heartbeat.take_due() {
        drop(state);
        let payload = if action == Action::Ping { &self.ping } else { &self.trigger };
        let sent = notify_socket::send(&self.address, payload, &[]);
        let at = SystemTime::now();
        state = lock(&self.shared.state);
        match sent {
          Ok(()) => state.heartbeat.sent(action, at),
          Err(e) => {
            state.heartbeat.send_failed();
            drop(state);
            let alive = self.tell(Event::Error(e));
            state = lock(&self.shared.state);
            if !alive {
              break;
            }
          }
        }
        continue;
      }
      let now = Instant::now();
      let wait = state.heartbeat.until_next_tick(now);
      if !wait.is_zero() {
        // A condition variable, not a sleep: stop() and acknowledgements wake the thread at once.
        state = match self.shared.wake.wait_timeout(state, wait) {
          Ok((guard, _)) => guard,
          Err(poisoned) => poisoned.into_inner().0,
        };
        continue;
      }
      if state.heartbeat.tick(now) == Request::Queue {
        drop(state);
        let alive = self.tell(Event::Request);
        state = lock(&self.shared.state);
        if !alive {
          break;
        }
      }
    }
    state.running = false;
  }
}

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
      let accepted = lock(&self.shared.state).heartbeat.acknowledge(seq, verdict);
      if accepted {
        self.shared.wake.notify_all();
      }
      Ok(accepted)
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

    let shared = Arc::new(Shared {
      state: Mutex::new(State {
        heartbeat: Heartbeat::new(timing, failure_action, Instant::now()),
        stopping: false,
        running: true,
      }),
      wake: Condvar::new(),
      thread: Mutex::new(None),
    });

    let on_js_thread = shared.clone();
    let has_health_check = options.health_check.is_some();
    let request: RequestFn = on_request
      .build_threadsafe_function::<Event>()
      .weak::<true>()
      .callee_handled::<false>()
      .build_callback(move |ctx: ThreadsafeCallContext<Event>| {
        // Runs on the event loop inside napi's callback: a panic here must not unwind into it, so
        // it becomes an error passed to `onError` like any other.
        let args = contain("the watchdog's request callback", || match ctx.value {
          Event::Request => {
            // Running here is the event loop's proof of life; how late it runs is its response time.
            let mut state = lock(&on_js_thread.state);
            let seq = if state.stopping { None } else { state.heartbeat.delivered(Instant::now()) };
            match seq {
              // Without a health check, running here is the whole answer: acknowledged at once,
              // with no second call from JavaScript back into the addon.
              Some(seq) if !has_health_check => {
                if state.heartbeat.acknowledge(seq, Verdict::Healthy) {
                  on_js_thread.wake.notify_all();
                }
                FnArgs::from((None, None, None))
              }
              seq => FnArgs::from((seq, None, None)),
            }
          }
          Event::Error(e) => FnArgs::from((None, Some(e.code()), Some(e.to_string()))),
        });
        Ok(args.unwrap_or_else(|e| {
          // The request counts as delivered and unanswered (no ping for it), so the next tick
          // queues a new one instead of waiting forever for this one.
          lock(&on_js_thread.state).heartbeat.delivered(Instant::now());
          FnArgs::from((None, Some(e.code()), Some(e.to_string())))
        }))
      })
      .map_err(|e| napi_failure("creating the watchdog's threadsafe function", e))?;

    let teardown = TeardownHook::add(env, &shared).map_err(|e| napi_failure("registering the watchdog's cleanup hook", e))?;

    let timer = Timer { shared: shared.clone(), request, address, ping, trigger, _slot: slot };
    let handle = sd_notify_protocol::sync::small_thread()
      .name("sd-notify-watchdog".into())
      .spawn(move || timer.run_contained())
      .map_err(|e| {
        let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
        NotifyError::os("starting the watchdog thread", errno)
      });
    match handle {
      Ok(handle) => *lock(&shared.thread) = Some(handle),
      Err(e) => {
        lock(&shared.state).running = false;
        return Err(e).js();
      }
    }
    Ok(Some(Watchdog { shared, timing, failure_action, teardown: Mutex::new(Some(teardown)) }))
  })
}
