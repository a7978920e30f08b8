//! Stopping the watchdog's thread when a JavaScript environment is torn down.

use std::sync::{Arc, Weak};

use napi::{Env, Status};

use super::watchdog::Shared;

/// A cleanup hook that stops the thread when the environment is torn down (a worker's
/// termination, a natural exit; process.exit() and signals skip these hooks, and the thread then
/// dies with the process). It holds only a `Weak`: a stopped watchdog's state is not kept alive.
pub struct TeardownHook(*mut Weak<Shared>);

// SAFETY: the pointer is only touched on the JS thread that owns the environment (add, remove)
// or by that environment's teardown, which napi runs on the same thread.
unsafe impl Send for TeardownHook {}

unsafe extern "C" fn stop_on_teardown(data: *mut std::ffi::c_void) {
  // SAFETY: `data` is the Box leaked by TeardownHook::add, handed back exactly once (the hook
  // runs once, or is removed by TeardownHook::remove, which frees it instead).
  let weak = unsafe { Box::from_raw(data.cast::<Weak<Shared>>()) };
  // Nobody is left to tell of a panic here; contained all the same, since unwinding out of this
  // C callback would abort the process.
  let _ = sd_notify_protocol::sync::contain("the watchdog's teardown", || {
    if let Some(shared) = weak.upgrade() {
      shared.stop();
    }
  });
}

impl TeardownHook {
  pub fn add(env: &Env, shared: &Arc<Shared>) -> napi::Result<Self> {
    let data = Box::into_raw(Box::new(Arc::downgrade(shared)));
    // SAFETY: a valid env and a callback/data pair that stays valid until run or removed.
    let status = unsafe { napi::sys::napi_add_env_cleanup_hook(env.raw(), Some(stop_on_teardown), data.cast()) };
    if status != napi::sys::Status::napi_ok {
      // SAFETY: not registered, so still ours to free.
      drop(unsafe { Box::from_raw(data) });
      return Err(napi::Error::new(Status::GenericFailure, format!("napi_add_env_cleanup_hook returned {status}")));
    }
    Ok(Self(data))
  }

  pub fn remove(self, env: &Env) {
    // SAFETY: the same callback/data pair that add() registered on this env.
    let status = unsafe { napi::sys::napi_remove_env_cleanup_hook(env.raw(), Some(stop_on_teardown), self.0.cast()) };
    if status == napi::sys::Status::napi_ok {
      // SAFETY: no longer registered: nobody else will free it.
      drop(unsafe { Box::from_raw(self.0) });
    }
  }
}
