//! What a JavaScript environment leaves behind when it ends (a Worker's termination, a natural
//! exit): its listeners are closed (descriptor, abstract name, socket file) and its pending
//! waits on the poller are cancelled, instead of living on with the process. napi runs
//! environment cleanup hooks on those occasions (not on process.exit(), when the process goes
//! anyway).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use napi::Env;

use super::teardown::TeardownHook;
use sd_notify_protocol::listener::Listener;
use sd_notify_protocol::poller;
use sd_notify_protocol::sync::lock;

/// Per environment (keyed by its address): the listeners it made, while they live.
static ENVS: Mutex<Option<HashMap<usize, Vec<Weak<Listener>>>>> = Mutex::new(None);

/// The tag of `env`'s waits on the poller (its address: never a listener's id, see there).
pub fn owner(env: &Env) -> u64 {
  env.raw() as usize as u64
}

/// What `env`'s end does (run by its teardown hook, which contains a panic: nobody is left to
/// tell of one).
fn on_env_end(key: usize) {
  let listeners = lock(&ENVS).as_mut().and_then(|m| m.remove(&key)).unwrap_or_default();
  for listener in listeners.iter().filter_map(Weak::upgrade) {
    listener.close();
  }
  poller::cancel(key as u64);
}

/// Makes sure `env`'s end is hooked (once per environment), and remembers `listener` to close
/// it then. Closed and collected listeners are forgotten on the way.
pub fn track(env: &Env, listener: Option<&Arc<Listener>>) -> napi::Result<()> {
  let key = env.raw() as usize;
  let mut envs = lock(&ENVS);
  let map = envs.get_or_insert_with(HashMap::new);
  let list = match map.entry(key) {
    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
    std::collections::hash_map::Entry::Vacant(e) => {
      // Never removed: it runs once, when the environment ends.
      TeardownHook::add(env, "the end of a JavaScript environment", move || on_env_end(key))?;
      e.insert(Vec::new())
    }
  };
  if let Some(listener) = listener {
    list.retain(|w| w.upgrade().is_some_and(|l| !l.is_closed()));
    list.push(Arc::downgrade(listener));
  }
  Ok(())
}
