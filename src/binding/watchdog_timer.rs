//! The watchdog's timer thread and what it shares with the event loop: the one-per-process slot,
//! the state behind a mutex, the thread's loop, and the event loop's answer to its requests. The
//! JavaScript object (`Watchdog`) and its entry point are in watchdog.rs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi::Status;
use nix::errno::Errno;

use sd_notify_protocol::address::NotifyAddress;
use sd_notify_protocol::sync::{contain, lock};
use sd_notify_protocol::watchdog::{Action, Heartbeat, Request, Verdict};
use sd_notify_protocol::{notify_socket, NotifyError};

/// One watchdog per process: the manager gives a process one WATCHDOG_USEC to honour.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The JavaScript request callback's arguments: `(seq, errorCode, errorMessage)`. `seq` is the
/// request to acknowledge (null when there is nothing to answer); the others report a failure.
/// `FnArgs` spreads the tuple into three arguments (a bare tuple would arrive as one array).
pub(super) type RequestArgs = FnArgs<(Option<u32>, Option<String>, Option<String>)>;

/// What the timer thread tells the event loop.
pub(super) enum Event {
  Request,
  Error(NotifyError),
}

/// Weak: it never keeps the process alive. Errors are not passed as a first argument. Both are
/// spelled out because the builder and the type disagree on the `CalleeHandled` default.
pub(super) type RequestFn = ThreadsafeFunction<Event, UnknownReturnValue, RequestArgs, Status, false, true, 0>;

pub(super) struct State {
  pub(super) heartbeat: Heartbeat,
  stopping: bool,
  pub(super) running: bool,
}

pub(super) struct Shared {
  pub(super) state: Mutex<State>,
  pub(super) wake: Condvar,
  thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
  pub(super) fn new(heartbeat: Heartbeat) -> Self {
    Shared {
      state: Mutex::new(State { heartbeat, stopping: false, running: true }),
      wake: Condvar::new(),
      thread: Mutex::new(None),
    }
  }

  /// Wakes the thread at once and waits for it to end. Idempotent; never called from the thread.
  pub(super) fn stop(&self) {
    lock(&self.state).stopping = true;
    self.wake.notify_all();
    let handle = lock(&self.thread).take();
    if let Some(handle) = handle {
      // Err only if the thread panicked; it has ended either way.
      let _ = handle.join();
    }
  }

  /// The event loop's answer to `verdict` on request `seq`: whether it answered the latest
  /// request and so will be acted on (the thread is then woken to act on it).
  pub(super) fn acknowledge(&self, seq: u32, verdict: Verdict) -> bool {
    let accepted = lock(&self.state).heartbeat.acknowledge(seq, verdict);
    if accepted {
      self.wake.notify_all();
    }
    accepted
  }

  /// Runs on the event loop, inside napi's callback, for each `event` the thread sends: what to
  /// pass to the JavaScript request callback. A panic here must not unwind into napi, so it
  /// becomes an error passed to `onError` like any other.
  pub(super) fn on_event(&self, event: Event, has_health_check: bool) -> RequestArgs {
    let args = contain("the watchdog's request callback", || match event {
      Event::Request => {
        // Running here is the event loop's proof of life; how late it runs is its response time.
        let mut state = lock(&self.state);
        let seq = if state.stopping { None } else { state.heartbeat.delivered(Instant::now()) };
        match seq {
          // Without a health check, running here is the whole answer: acknowledged at once,
          // with no second call from JavaScript back into the addon.
          Some(seq) if !has_health_check => {
            if state.heartbeat.acknowledge(seq, Verdict::Healthy) {
              self.wake.notify_all();
            }
            FnArgs::from((None, None, None))
          }
          seq => FnArgs::from((seq, None, None)),
        }
      }
      Event::Error(e) => FnArgs::from((None, Some(e.code()), Some(e.to_string()))),
    });
    args.unwrap_or_else(|e| {
      // The request counts as delivered and unanswered (no ping for it), so the next tick
      // queues a new one instead of waiting forever for this one.
      lock(&self.state).heartbeat.delivered(Instant::now());
      FnArgs::from((None, Some(e.code()), Some(e.to_string())))
    })
  }
}

/// The process's one watchdog slot, released when the thread (or a failed start) lets go of it.
pub(super) struct Slot;

impl Slot {
  pub(super) fn claim() -> sd_notify_protocol::Result<Self> {
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
pub(super) struct Timer {
  pub(super) shared: std::sync::Arc<Shared>,
  pub(super) request: RequestFn,
  pub(super) address: NotifyAddress,
  pub(super) ping: Vec<u8>,
  pub(super) trigger: Vec<u8>,
  pub(super) _slot: Slot,
}

impl Timer {
  /// Starts the thread; on failure the watchdog is marked as not running (and the slot freed).
  pub(super) fn spawn(self) -> sd_notify_protocol::Result<()> {
    let shared = self.shared.clone();
    let handle = sd_notify_protocol::sync::small_thread().name("sd-notify-watchdog".into()).spawn(move || self.run_contained());
    match handle {
      Ok(handle) => {
        *lock(&shared.thread) = Some(handle);
        Ok(())
      }
      Err(e) => {
        lock(&shared.state).running = false;
        let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
        Err(NotifyError::os("starting the watchdog thread", errno))
      }
    }
  }

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
