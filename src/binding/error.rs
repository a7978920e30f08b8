//! The one place protocol errors become JavaScript errors with a stable `code`.

use napi::bindgen_prelude::{JsError, ToNapiValue};
use napi::Env;

use sd_notify_protocol::NotifyError;

/// A napi result whose error's `code` is our stable code string.
pub type Result<T> = napi::Result<T, String>;

/// For synchronous calls: thrown as `Error` with `code`.
pub fn to_js(e: NotifyError) -> napi::Error<String> {
  napi::Error::new(e.code(), e.to_string())
}

/// A napi failure to read a JavaScript value, as ERR_SD_NOTIFY_INVALID_VALUE for `key`.
pub fn invalid_value(key: &str, e: napi::Error) -> napi::Error<String> {
  to_js(NotifyError::value(key, e.reason))
}

pub trait IntoJs<T> {
  fn js(self) -> Result<T>;
}

impl<T> IntoJs<T> for sd_notify_protocol::Result<T> {
  fn js(self) -> Result<T> {
    self.map_err(to_js)
  }
}

/// For promise rejections (settled on the JS thread): a real `Error` object carrying `code`,
/// which the deferred passes through as is.
pub fn rejection(env: Env, e: NotifyError) -> napi::Error {
  // A real `Error` whose `code` is ours, made on the JS thread that owns `env`.
  napi::Error::from(JsError::from(napi::Error::new(e.code(), e.to_string())).into_unknown(env))
}

/// The one resolver shape every deferred promise of this crate uses.
pub type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// Settles `deferred` with `outcome` on the JS thread: fulfilled, or rejected with a coded error.
pub fn settle<T: ToNapiValue + Send + 'static>(deferred: napi::JsDeferred<T, Settle<T>>, outcome: sd_notify_protocol::Result<T>) {
  deferred.resolve(Box::new(move |env| outcome.map_err(|e| rejection(env, e))));
}

/// The body of every function JavaScript calls runs in here: a panic becomes a thrown
/// `ERR_SD_NOTIFY_PANIC` instead of aborting the process (`during` names the function).
pub fn guard<T>(during: &'static str, body: impl FnOnce() -> Result<T>) -> Result<T> {
  sd_notify_protocol::sync::contain(during, body).map_err(to_js).and_then(|r| r)
}

/// A napi failure (creating a promise, say) as a thrown error whose code is napi's status name.
pub fn napi_error(e: napi::Error) -> napi::Error<String> {
  napi::Error::new(e.status.as_ref().to_owned(), e.reason)
}

/// Runs `work` on a new helper thread named `name` and settles `deferred` with its outcome; a
/// panic in `work` rejects with `ERR_SD_NOTIFY_PANIC`. The event loop never waits for it. When
/// no thread can start, `deferred` is rejected with the errno (never dropped unsettled: napi's
/// deferred has no Drop, and its threadsafe function would keep the event loop alive).
pub fn settle_on_thread<T: ToNapiValue + Send + 'static>(
  deferred: napi::JsDeferred<T, Settle<T>>,
  name: &'static str,
  work: impl FnOnce() -> sd_notify_protocol::Result<T> + Send + 'static,
) {
  let started = sd_notify_protocol::sync::spawn_or_give_back(
    deferred,
    |run| sd_notify_protocol::sync::small_thread().name(name.into()).spawn(run).map(drop),
    move |deferred| settle(deferred, sd_notify_protocol::sync::contain(name, work).and_then(|r| r)),
  );
  if let Err((deferred, e)) = started {
    let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
    settle(deferred, Err(NotifyError::os("starting a helper thread", errno)));
  }
}

/// Tests only: the next contained call whose `during` is `site` panics (null disarms). Shows from
/// JavaScript that each real site turns a panic into `ERR_SD_NOTIFY_PANIC`.
#[napi_derive::napi(js_name = "__armPanicForTests", skip_typescript)]
pub fn arm_panic_for_tests(site: Option<String>) {
  sd_notify_protocol::sync::probe::arm(site);
}
