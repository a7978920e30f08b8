//! Mutexes whose data stays valid when a holder panicked: every lock in the core is one of these.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking the data of a poisoned lock as it is: a panic elsewhere (which the binding
/// turns into a JS error) must not make every later call fail too.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
