//! Running a task when a JavaScript environment is torn down (a worker's termination, a natural
//! exit; process.exit() and signals skip these hooks, and whatever the task would stop then dies
//! with the process). General: it knows nothing of what it stops (the watchdog's thread,
//! watchdog.rs; an environment's listeners and waits, env_end.rs).

use napi::{Env, Status};

/// What a hook runs, and what to call a panic in it.
struct Task {
  during: &'static str,
  run: Box<dyn FnOnce() + Send>,
}

/// An environment cleanup hook, registered until it runs or `remove()` takes it back (dropping
/// this handle leaves it registered: the task is then freed when it runs). The task should hold
/// only `Weak` references, so that what it stops is not kept alive by the hook.
pub struct TeardownHook(*mut Task);

// SAFETY: the pointer is only touched on the JS thread that owns the environment (add, remove)
// or by that environment's teardown, which napi runs on the same thread.
unsafe impl Send for TeardownHook {}

unsafe extern "C" fn run_on_teardown(data: *mut std::ffi::c_void) {
  // SAFETY: `data` is the Box leaked by TeardownHook::add, handed back exactly once (the hook
  // runs once, or is removed by TeardownHook::remove, which frees it instead).
  let task = unsafe { Box::from_raw(data.cast::<Task>()) };
  // Nobody is left to tell of a panic here; contained all the same, since unwinding out of this
  // C callback would abort the process.
  let _ = sd_notify_protocol::sync::contain(task.during, task.run);
}

impl TeardownHook {
  /// Registers `run` to be called once when `env` is torn down; `during` names it in a panic.
  pub fn add(env: &Env, during: &'static str, run: impl FnOnce() + Send + 'static) -> napi::Result<Self> {
    let data = Box::into_raw(Box::new(Task { during, run: Box::new(run) }));
    // SAFETY: a valid env and a callback/data pair that stays valid until run or removed.
    let status = unsafe { napi::sys::napi_add_env_cleanup_hook(env.raw(), Some(run_on_teardown), data.cast()) };
    if status != napi::sys::Status::napi_ok {
      // SAFETY: not registered, so still ours to free.
      drop(unsafe { Box::from_raw(data) });
      return Err(napi::Error::new(Status::GenericFailure, format!("napi_add_env_cleanup_hook returned {status}")));
    }
    Ok(Self(data))
  }

  /// Unregisters the hook without running its task (on the thread that added it).
  pub fn remove(self, env: &Env) {
    // SAFETY: the same callback/data pair that add() registered on this env.
    let status = unsafe { napi::sys::napi_remove_env_cleanup_hook(env.raw(), Some(run_on_teardown), self.0.cast()) };
    if status == napi::sys::Status::napi_ok {
      // SAFETY: no longer registered: nobody else will free it.
      drop(unsafe { Box::from_raw(self.0) });
    }
  }
}
