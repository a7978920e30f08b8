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

/// Runs `body(held)` on a thread that `spawn` starts; when it cannot start, gives `held` back
/// with the error. `held` is something that must not be dropped unused (a promise to settle): a
/// failed spawn drops the closure it was given, so `held` travels in a shared slot instead, which
/// the thread empties, or this function when the thread never ran.
pub fn spawn_or_give_back<H: Send + 'static>(
  held: H,
  spawn: impl FnOnce(Box<dyn FnOnce() + Send>) -> std::io::Result<()>,
  body: impl FnOnce(H) + Send + 'static,
) -> Result<(), (H, std::io::Error)> {
  let slot = std::sync::Arc::new(Mutex::new(Some(held)));
  let theirs = slot.clone();
  let started = spawn(Box::new(move || {
    if let Some(held) = lock(&theirs).take() {
      body(held);
    }
  }));
  match started {
    Ok(()) => Ok(()),
    Err(e) => match lock(&slot).take() {
      Some(held) => Err((held, e)),
      // The thread ran after all (a spawner that failed late): it owned `held`.
      None => Ok(()),
    },
  }
}

/// Runs `f`, turning a panic into `NotifyError::Panic`: the boundary no panic crosses. The
/// binding runs every function JavaScript calls, every callback and every thread through it.
pub fn contain<T>(during: &'static str, f: impl FnOnce() -> T) -> crate::Result<T> {
  let run = || {
    probe::fire_if_armed(during);
    f()
  };
  std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|payload| {
    let message = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
      (Some(s), _) => (*s).to_owned(),
      (_, Some(s)) => s.clone(),
      _ => "a panic without a message".to_owned(),
    };
    // A payload whose own Drop panics would unwind again here: forgotten, not dropped (it is
    // only ever a small box, and only on this path).
    std::mem::forget(payload);
    crate::NotifyError::Panic { during, message }
  })
}

/// For the tests of the boundary only (`__armPanicForTests` in the binding): makes the next
/// `contain` of a given `during` panic, so that each real site's containment can be shown to work
/// from JavaScript. Disarmed, it costs one relaxed atomic load per call.
pub mod probe {
  use std::sync::atomic::{AtomicBool, Ordering};
  use std::sync::Mutex;

  static ARMED: AtomicBool = AtomicBool::new(false);
  static SITE: Mutex<Option<String>> = Mutex::new(None);

  /// Arms a panic for the next `contain(during)`; `None` disarms.
  pub fn arm(during: Option<String>) {
    let armed = during.is_some();
    *super::lock(&SITE) = during;
    ARMED.store(armed, Ordering::Release);
  }

  #[inline]
  pub(super) fn fire_if_armed(during: &str) {
    if ARMED.load(Ordering::Relaxed) {
      fire(during);
    }
  }

  #[cold]
  fn fire(during: &str) {
    let mut site = super::lock(&SITE);
    if site.as_deref() == Some(during) {
      *site = None;
      ARMED.store(false, Ordering::Release);
      drop(site);
      panic!("panic probe armed for {during}");
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_panic_becomes_a_coded_error_and_the_lock_stays_usable() {
    let m = Mutex::new(1);
    let e = contain("a test", || {
      let _held = lock(&m);
      panic!("boom {}", 42);
    })
    .unwrap_err();
    assert_eq!(e.code(), "ERR_SD_NOTIFY_PANIC");
    assert!(e.to_string().contains("during a test: boom 42"), "{e}");
    assert_eq!(*lock(&m), 1, "a poisoned lock still gives its data");
    assert_eq!(contain("ok", || 7), Ok(7));
    assert!(contain("static", || panic!("plain")).unwrap_err().to_string().contains("plain"));
  }

  #[test]
  fn a_thread_that_cannot_start_gives_back_what_it_would_have_owned() {
    let failed = spawn_or_give_back("promise", |_run| Err(std::io::Error::from_raw_os_error(libc::EAGAIN)), |_| {});
    let (held, e) = failed.unwrap_err();
    assert_eq!(held, "promise");
    assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));

    let (tx, rx) = std::sync::mpsc::channel();
    let started = spawn_or_give_back(
      7,
      |run| small_thread().spawn(run).map(drop),
      move |held| {
        let _ = tx.send(held);
      },
    );
    assert!(started.is_ok());
    assert_eq!(rx.recv().unwrap(), 7);
  }

  #[test]
  fn an_armed_probe_fires_once_at_its_site_only() {
    probe::arm(Some("probe site".into()));
    assert_eq!(contain("another site", || 1), Ok(1));
    assert!(contain("probe site", || 1).unwrap_err().to_string().contains("panic probe armed for probe site"));
    assert_eq!(contain("probe site", || 2), Ok(2));
  }
}
