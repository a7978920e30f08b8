//! `listenFds()`: the descriptors systemd passed (socket activation, the fd store).

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;

use super::args::{boolean, options, own};
use super::error::{guard, napi_error, IntoJs, Result};
use sd_notify_protocol::listen_fds;

/// One descriptor passed by the service manager.
#[napi(object)]
pub struct ListenFd {
  /// The descriptor number (3, 4, ...). Listen on it with `server.listen({ fd })`.
  pub fd: i32,
  /// `FileDescriptorName=` of the socket unit (default: the socket unit's name, e.g. `app.socket`),
  /// the `FDNAME=` it was stored under (`stored` when none was given), or `unknown` when
  /// systemd passed no names.
  pub name: String,
  /// `true` when an earlier `listenFds()` call of this process already returned this descriptor:
  /// someone in this process may already own it. `false` only the first time.
  pub taken: bool,
}

/// Options of `listenFds()`.
#[napi(object, object_from_js = false)]
pub struct ListenFdsOptions {
  /// Remove `LISTEN_PID`, `LISTEN_PIDFDID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from the environment
  /// afterwards (also on error), so child processes do not see them. Default `false`.
  pub unset_environment: Option<bool>,
}

impl ListenFdsOptions {
  /// The options from `value` (own properties only).
  fn from_js(env: &napi::Env, value: Option<Unknown>) -> Result<Self> {
    let Some(object) = options(env, value, "listenFds(options)")? else { return Ok(Self { unset_environment: None }) };
    let unset = own(&object, "unsetEnvironment").map_err(napi_error)?;
    Ok(Self { unset_environment: unset.map(|v| boolean(env, v, "listenFds(options.unsetEnvironment)")).transpose()? })
  }
}

/// The descriptors the service manager passed to this process (socket activation, or the fd store
/// after a restart), as `sd_listen_fds_with_names(3)` reads them: only when `LISTEN_PID` (and
/// `LISTEN_PIDFDID`, when set and pidfds are supported) is this process; `[]` when nothing was
/// passed. Sets close-on-exec on each descriptor. Names default to `unknown`.
///
/// The first call takes the descriptors; later calls return the same list with `taken: true`
/// (never reading the environment again), so no descriptor is handed out twice as new.
///
/// Throws `ERR_SD_NOTIFY_INVALID_ENV` when a variable is malformed, `LISTEN_FDS` is not positive,
/// or `LISTEN_FDNAMES` names a different number of descriptors; `EBADF` when a promised descriptor
/// is not open. See https://www.freedesktop.org/software/systemd/man/sd_listen_fds.html
#[napi(ts_args_type = "options?: ListenFdsOptions | undefined | null")]
pub fn listen_fds(env: napi::Env, options: Option<Unknown>) -> Result<Vec<ListenFd>> {
  guard("listenFds", || {
    let options = ListenFdsOptions::from_js(&env, options)?;
    let _thread_env = super::env::this_thread(&env);
    let unset = options.unset_environment.unwrap_or(false);
    let taken = listen_fds::take(unset).js()?;
    Ok(taken.fds.into_iter().map(|f| ListenFd { fd: f.fd, name: f.name, taken: taken.taken_before }).collect())
  })
}
