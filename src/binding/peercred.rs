//! SO_PEERCRED for lib/reload.js.

use napi_derive::napi;

use super::error::{guard, IntoJs, Result};

/// The (pid, uid, gid) of the peer of connected AF_UNIX socket `fd` (SO_PEERCRED). Internal to
/// lib/reload.js, which accepts reload requests only from root or the service's own user.
#[napi(skip_typescript)]
pub fn peer_credentials(fd: i32) -> Result<Vec<f64>> {
  guard("peerCredentials", || {
    let (pid, uid, gid) = sd_notify_protocol::peercred::peer_credentials(fd).js()?;
    Ok(vec![f64::from(pid), f64::from(uid), f64::from(gid)])
  })
}
