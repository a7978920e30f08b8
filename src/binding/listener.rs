//! `NotifyListener`: a stand-in for the service manager, for tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Object, ToNapiValue};
use napi::Env;
use napi_derive::napi;

use super::error::{guard, napi_error, settle, settle_on_thread, IntoJs, Result, Settle};
use crate::convert::usec_from_ms;
use sd_notify_protocol::listener::{Listener, Received};
use sd_notify_protocol::message::parse_assignments;

/// One notification as the manager would read it.
#[napi(object)]
pub struct NotifyMessage {
  /// The assignments, parsed as the manager does (lines split on `\n` and `\r`; first key wins).
  pub fields: HashMap<String, String>,
  /// The datagram's exact bytes.
  pub raw: Buffer,
  /// The datagram as UTF-8 text.
  pub text: String,
  /// Sender's process id, from the kernel (SO_PASSCRED), not from the message.
  pub pid: i32,
  /// Sender's user id, from the kernel.
  pub uid: u32,
  /// Sender's group id, from the kernel.
  pub gid: u32,
  /// Descriptors that came with the message (SCM_RIGHTS). They are yours: close them with the
  /// listener's `closeFds()` (any runtime) or `fs.closeSync` (Node.js and Bun).
  pub fds: Vec<i32>,
}

fn to_message(r: Received) -> NotifyMessage {
  let mut fields = HashMap::new();
  for (k, v) in parse_assignments(&r.data) {
    if let Some(v) = v {
      fields.entry(k).or_insert(v);
    }
  }
  NotifyMessage {
    fields,
    text: String::from_utf8_lossy(&r.data).into_owned(),
    raw: r.data.into(),
    pid: r.pid,
    uid: r.uid,
    gid: r.gid,
    fds: r.fds,
  }
}

/// Resolves with `convert` of the next datagram `listener` receives, waiting on a thread of its
/// own (the event loop never waits); the shared `receive()` of both stand-in receivers.
fn receive_on_a_thread<'env, T: ToNapiValue + Send + 'static>(
  env: &'env Env,
  listener: &Arc<Listener>,
  timeout_ms: Option<f64>,
  convert: fn(Received) -> sd_notify_protocol::Result<T>,
) -> Result<Object<'env>> {
  let (deferred, promise) = env.create_deferred::<T, Settle<T>>().map_err(napi_error)?;
  match timeout_ms.map(|ms| usec_from_ms("timeoutMs", ms)).transpose() {
    Err(e) => settle(deferred, Err(e)),
    Ok(timeout) => {
      let listener = listener.clone();
      let timeout = timeout.map(Duration::from_micros);
      settle_on_thread(deferred, "sd-notify-listener", move || listener.receive(timeout).and_then(convert))?;
    }
  }
  Ok(promise)
}

/// A datagram socket that receives notifications like the service manager does, with the
/// sender's credentials. Put `listener.address` in `NOTIFY_SOCKET` to point a process at it.
#[napi]
pub struct NotifyListener {
  inner: Arc<Listener>,
}

#[napi]
impl NotifyListener {
  /// Binds `address`: a filesystem path (`/run/app/notify`, removed again by `close()`) or an
  /// abstract name (`@name`). Without one, a fresh abstract name is chosen.
  #[napi(constructor)]
  pub fn new(address: Option<String>) -> Result<Self> {
    guard("NotifyListener.new", || Ok(Self { inner: Arc::new(Listener::bind(address.as_deref()).js()?) }))
  }

  /// The address to put in `NOTIFY_SOCKET`.
  #[napi(getter)]
  pub fn address(&self) -> Result<String> {
    guard("NotifyListener.address", || Ok(self.inner.address().to_owned()))
  }

  /// Whether `close()` was called.
  #[napi(getter)]
  pub fn closed(&self) -> Result<bool> {
    guard("NotifyListener.closed", || Ok(self.inner.is_closed()))
  }

  /// Resolves with the next notification. Rejects with `ETIMEDOUT` after `timeoutMs`
  /// (default: wait until one arrives or `close()`), and with `ERR_SD_NOTIFY_LISTENER_CLOSED`
  /// once closed. While a receive is pending the process stays alive.
  #[napi(ts_return_type = "Promise<NotifyMessage>")]
  pub fn receive<'env>(&self, env: &'env Env, timeout_ms: Option<f64>) -> Result<Object<'env>> {
    guard("NotifyListener.receive", || receive_on_a_thread(env, &self.inner, timeout_ms, |r| Ok(to_message(r))))
  }

  /// The next datagram as a journal entry (internal: lib/journal.js's `JournalListener.receive()`).
  #[napi(skip_typescript)]
  pub fn receive_journal<'env>(&self, env: &'env Env, timeout_ms: Option<f64>) -> Result<Object<'env>> {
    guard("NotifyListener.receiveJournal", || receive_on_a_thread(env, &self.inner, timeout_ms, super::journal::to_entry))
  }

  /// Closes descriptors that arrived at this listener (a message's `fds`), natively, in every
  /// runtime (Deno's `fs.closeSync` refuses descriptors Deno did not open). Closing the fd of a
  /// `BARRIER=1` message resolves the sender's `barrier()`. Throws `ERR_SD_NOTIFY_INVALID_FD`,
  /// closing nothing, when one did not arrive here or was closed by `closeFds()` already.
  #[napi]
  pub fn close_fds(&self, fds: Vec<i32>) -> Result<()> {
    guard("NotifyListener.closeFds", || self.inner.close_received(&fds).js())
  }

  /// Closes the socket: pending and later `receive()` calls reject. Idempotent.
  #[napi]
  pub fn close(&self) -> Result<()> {
    guard("NotifyListener.close", || {
      self.inner.close();
      Ok(())
    })
  }
}
