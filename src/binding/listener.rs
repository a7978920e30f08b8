//! `NotifyListener`: a stand-in for the service manager, for tests.

use std::collections::HashMap;
use std::os::fd::IntoRawFd;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, JsObjectValue, Object, ToNapiValue};
use napi::Env;
use napi_derive::napi;

use super::error::{guard, napi_error, settle, IntoJs, Result, Settle};
use super::journal_entry::passes_file;
use crate::convert::{decimal_from_f64, usec_from_ms};
use sd_notify_protocol::listener::{Listener, ListenerOptions, Received};
use sd_notify_protocol::message::parse_assignments;
use sd_notify_protocol::passed_fd::DEFAULT_MAX_ENTRY_BYTES;
use sd_notify_protocol::{waits, NotifyError};

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
    fds: r.fds.into_iter().map(IntoRawFd::into_raw_fd).collect(),
  }
}

/// Resolves with `convert` of the next datagram `listener` receives. The wait is the process's
/// one poller thread's (the event loop never waits, and no thread is started per call); the
/// shared `receive()` of both stand-in receivers. `convert` runs on the poller thread, where it
/// must not block, unless `blocks(datagram)` says it may: then on a short-lived thread of its
/// own. (A journal entry's passed file is read with pread(2), and a sender with its own user and
/// mount namespaces can pass a file on a FUSE mount whose read never returns: on the poller
/// thread that would stall every receive() and barrier() of the process.)
fn receive_with_poller<'env, T: ToNapiValue + Send + 'static>(
  env: &'env Env,
  listener: &Arc<Listener>,
  timeout_ms: Option<f64>,
  blocks: fn(&Received) -> bool,
  convert: impl FnOnce(Received) -> sd_notify_protocol::Result<T> + Send + 'static,
) -> Result<Object<'env>> {
  let (deferred, promise) = env.create_deferred::<T, Settle<T>>().map_err(napi_error)?;
  match timeout_ms.map(|ms| usec_from_ms("timeoutMs", ms)).transpose() {
    Err(e) => settle(deferred, Err(e)),
    Ok(timeout) => {
      let owner = super::env_end::owner(env);
      let done = Box::new(move |outcome: sd_notify_protocol::Result<Received>| {
        let finish = move |outcome: sd_notify_protocol::Result<Received>| {
          let outcome = sd_notify_protocol::sync::contain("sd-notify-listener", || outcome.and_then(convert));
          settle(deferred, outcome.and_then(|r| r));
        };
        match outcome {
          Ok(r) if blocks(&r) => {
            let started = sd_notify_protocol::sync::spawn_or_give_back(
              (r, finish),
              |run| sd_notify_protocol::sync::small_thread().name("sd-notify-passed-file".into()).spawn(run).map(drop),
              |(r, finish)| finish(Ok(r)),
            );
            if let Err(((r, finish), e)) = started {
              drop(r); // its descriptors closed unread
              let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EAGAIN));
              finish(Err(NotifyError::os("starting a helper thread", errno)));
            }
          }
          outcome => finish(outcome),
        }
      });
      waits::receive(listener.clone(), timeout.map(Duration::from_micros), owner, done);
    }
  }
  Ok(promise)
}

/// Reads `options`' own properties only (an inherited `uid` from a polluted prototype must not
/// change who is heard). `(options, maxEntryBytes)`.
fn read_options(options: Option<Object<'_>>) -> Result<(ListenerOptions, u64)> {
  let Some(o) = options else { return Ok((ListenerOptions::default(), DEFAULT_MAX_ENTRY_BYTES)) };
  let own = |key: &str| -> Result<Option<f64>> {
    if !o.has_own_property(key).map_err(|e| super::error::invalid_value(key, e))? {
      return Ok(None);
    }
    o.get::<f64>(key).map_err(|_| NotifyError::number(key, "it must be a number")).js()
  };
  let uid = match own("uid")? {
    None => None,
    Some(n) => Some(
      u32::try_from(decimal_from_f64("uid", n).js()?)
        .map_err(|_| NotifyError::number("uid", format!("{n} is above 2^32-1")))
        .js()?,
    ),
  };
  let max = match own("maxEntryBytes")? {
    None => DEFAULT_MAX_ENTRY_BYTES,
    Some(n) => decimal_from_f64("maxEntryBytes", n).js()?,
  };
  Ok((ListenerOptions { uid }, max))
}

/// Options of `new NotifyListener()` / `new JournalListener()` (read as own properties only).
#[napi(object)]
#[allow(dead_code)] // Declares the TypeScript type; the constructor reads the object itself.
pub struct NotifyListenerOptions {
  /// Hear only senders with this uid (from the kernel, SO_PASSCRED); other senders' datagrams
  /// are dropped and the descriptors they carry closed unread.
  pub uid: Option<u32>,
  /// JournalListener: the largest file an entry may be passed in, in bytes (default 64 MiB).
  pub max_entry_bytes: Option<f64>,
}

/// A datagram socket that receives notifications like the service manager does, with the
/// sender's credentials. Put `listener.address` in `NOTIFY_SOCKET` to point a process at it.
#[napi]
pub struct NotifyListener {
  inner: Arc<Listener>,
  max_entry_bytes: u64,
}

#[napi]
impl NotifyListener {
  /// Binds `address`: a filesystem path (`/run/app/notify`, removed again by `close()`) or an
  /// abstract name (`@name`). Without one (or `null`), a fresh abstract name is chosen.
  /// `options.uid`: hear only senders of this uid (the kernel's SO_PASSCRED, not the message);
  /// others' datagrams are dropped and their descriptors closed unread (see `refused`).
  /// `options.maxEntryBytes` (JournalListener): the largest file an entry may be passed in
  /// (default 64 MiB). The listener is closed when its JavaScript environment ends (a Worker's
  /// termination), if not before.
  #[napi(constructor, ts_args_type = "address?: string | null, options?: NotifyListenerOptions")]
  pub fn new(env: Env, address: Option<String>, options: Option<Object<'_>>) -> Result<Self> {
    guard("NotifyListener.new", || {
      let (options, max_entry_bytes) = read_options(options)?;
      let inner = Arc::new(Listener::bind_with(address.as_deref(), options).js()?);
      super::env_end::track(&env, Some(&inner)).map_err(napi_error)?;
      Ok(Self { inner, max_entry_bytes })
    })
  }

  /// Datagrams dropped because their sender's uid was not `options.uid`.
  #[napi(getter)]
  pub fn refused(&self) -> Result<f64> {
    guard("NotifyListener.refused", || Ok(self.inner.refused() as f64))
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
    let listener = self.inner.clone();
    guard("NotifyListener.receive", || {
      receive_with_poller(
        env,
        &self.inner,
        timeout_ms,
        |_| false,
        move |r| {
          // Only a message's descriptors go to the caller (a journal entry's are closed once read).
          let message = to_message(r);
          listener.keep_received(&message.fds);
          Ok(message)
        },
      )
    })
  }

  /// The next datagram as a journal entry (internal: lib/journal.js's `JournalListener.receive()`).
  #[napi(skip_typescript)]
  pub fn receive_journal<'env>(&self, env: &'env Env, timeout_ms: Option<f64>) -> Result<Object<'env>> {
    let max = self.max_entry_bytes;
    guard("NotifyListener.receiveJournal", || {
      receive_with_poller(env, &self.inner, timeout_ms, passes_file, move |r| super::journal_entry::to_entry(r, max))
    })
  }

  /// Closes descriptors that arrived at this listener (a message's `fds`), natively, in every
  /// runtime (Deno's `fs.closeSync` refuses descriptors Deno did not open). Closing the fd of a
  /// `BARRIER=1` message resolves the sender's `barrier()`. Throws `ERR_SD_NOTIFY_INVALID_FD`,
  /// closing nothing, when one did not arrive here, was closed by `closeFds()` already, or was
  /// closed otherwise (`fs.closeSync`: its number may now be another file's, left open).
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
