//! Locks and threads: mutexes whose data stays valid when a holder panicked (every lock in the
//! core is one of these),
//! and the threads the package starts.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking the data of a poisoned lock as it is: a panic elsewhere (which the binding
/// turns into a JS error) must not make every later call fail too.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A builder for the package's helper threads (watchdog, journal queue, receive and wait threads):
/// they need little stack, and a small one keeps what the C library caches of exited threads'
/// stacks small too (glibc keeps up to 40 MiB of them for reuse).
pub fn small_thread() -> std::thread::Builder {
  std::thread::Builder::new().stack_size(256 * 1024)
}
