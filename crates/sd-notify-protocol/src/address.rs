//! NOTIFY_SOCKET address forms: `/path`, `@abstract`, `vsock[-type]:CID:PORT`.

use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::socket::{SockType, UnixAddr};

use super::env;
use super::error::{NotifyError, Result};

/// sun_path holds 108 bytes; a filesystem path needs its trailing NUL, so 107 usable bytes.
const SUN_PATH_MAX: usize = 108;

/// The VM socket type a `vsock*:` address asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsockType {
  /// Plain `vsock:`: try DGRAM, then SEQPACKET, then STREAM.
  Any,
  Dgram,
  Seqpacket,
  Stream,
}

impl VsockType {
  /// The socket types to try, in order.
  pub fn candidates(self) -> &'static [SockType] {
    match self {
      Self::Any => &[SockType::Datagram, SockType::SeqPacket, SockType::Stream],
      Self::Dgram => &[SockType::Datagram],
      Self::Seqpacket => &[SockType::SeqPacket],
      Self::Stream => &[SockType::Stream],
    }
  }
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAddress {
  /// AF_UNIX, filesystem path or abstract namespace.
  Unix(UnixAddr),
  /// AF_VSOCK (systemd >= 253/255), for a manager outside a VM.
  Vsock { kind: VsockType, cid: u32, port: u32 },
}

fn invalid(raw: &[u8], reason: impl Into<String>) -> NotifyError {
  NotifyError::InvalidAddress { address: String::from_utf8_lossy(raw).into_owned(), reason: reason.into() }
}

fn too_long() -> NotifyError {
  NotifyError::os("socket address", Errno::ENAMETOOLONG)
}

/// Parses an address the way libsystemd does.
pub fn parse(raw: &[u8]) -> Result<NotifyAddress> {
  match raw.first() {
    None => Err(invalid(raw, "it is empty")),
    Some(b'/') => {
      if raw.len() >= SUN_PATH_MAX {
        return Err(too_long());
      }
      let path = std::ffi::OsStr::from_bytes(raw);
      UnixAddr::new(path).map(NotifyAddress::Unix).map_err(|e| NotifyError::os("socket address", e))
    }
    Some(b'@') => {
      // The '@' stands for the leading NUL of an abstract address; no trailing NUL is counted.
      let name = &raw[1..];
      if name.len() + 1 > SUN_PATH_MAX {
        return Err(too_long());
      }
      UnixAddr::new_abstract(name).map(NotifyAddress::Unix).map_err(|e| NotifyError::os("socket address", e))
    }
    _ => parse_vsock(raw),
  }
}

fn parse_vsock(raw: &[u8]) -> Result<NotifyAddress> {
  let text = std::str::from_utf8(raw).map_err(|_| invalid(raw, "not a path, an @abstract name or a vsock address"))?;
  let (kind, rest) = if let Some(rest) = text.strip_prefix("vsock:") {
    (VsockType::Any, rest)
  } else if let Some(rest) = text.strip_prefix("vsock-dgram:") {
    (VsockType::Dgram, rest)
  } else if let Some(rest) = text.strip_prefix("vsock-seqpacket:") {
    (VsockType::Seqpacket, rest)
  } else if let Some(rest) = text.strip_prefix("vsock-stream:") {
    (VsockType::Stream, rest)
  } else {
    return Err(invalid(raw, "expected an absolute path (/run/...), an abstract name (@name) or vsock:CID:PORT"));
  };
  let (cid, port) = rest.split_once(':').ok_or_else(|| invalid(raw, "vsock addresses are vsock:CID:PORT"))?;
  let cid: u32 = env::decimal(cid).ok_or_else(|| invalid(raw, "the vsock CID is not a number"))?;
  let port: u32 = env::decimal(port).ok_or_else(|| invalid(raw, "the vsock port is not a number"))?;
  if cid == u32::MAX {
    return Err(invalid(raw, "the vsock CID must be a specific CID, not VMADDR_CID_ANY"));
  }
  Ok(NotifyAddress::Vsock { kind, cid, port })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn filesystem_paths_become_unix_addresses() {
    let NotifyAddress::Unix(a) = parse(b"/run/systemd/notify").unwrap() else { panic!() };
    assert_eq!(a.path().unwrap().to_str(), Some("/run/systemd/notify"));
  }

  #[test]
  fn at_sign_becomes_the_abstract_namespace_without_trailing_nul() {
    let NotifyAddress::Unix(a) = parse(b"@sd/notify").unwrap() else { panic!() };
    assert_eq!(a.as_abstract(), Some(&b"sd/notify"[..]));
  }

  #[test]
  fn paths_longer_than_sun_path_are_enametoolong() {
    let long = format!("/{}", "a".repeat(107));
    assert_eq!(parse(long.as_bytes()).unwrap_err().code(), "ENAMETOOLONG");
    let fits = format!("/{}", "a".repeat(106));
    assert!(parse(fits.as_bytes()).is_ok());
    let abstract_long = format!("@{}", "a".repeat(108));
    assert_eq!(parse(abstract_long.as_bytes()).unwrap_err().code(), "ENAMETOOLONG");
    let abstract_fits = format!("@{}", "a".repeat(107));
    assert!(parse(abstract_fits.as_bytes()).is_ok());
  }

  #[test]
  fn vsock_forms_parse_with_their_type() {
    assert_eq!(parse(b"vsock:2:1234").unwrap(), NotifyAddress::Vsock { kind: VsockType::Any, cid: 2, port: 1234 });
    assert_eq!(parse(b"vsock-stream:3:9").unwrap(), NotifyAddress::Vsock { kind: VsockType::Stream, cid: 3, port: 9 });
    assert!(matches!(parse(b"vsock-dgram:3:9").unwrap(), NotifyAddress::Vsock { kind: VsockType::Dgram, .. }));
    assert!(matches!(parse(b"vsock-seqpacket:3:9").unwrap(), NotifyAddress::Vsock { kind: VsockType::Seqpacket, .. }));
  }

  #[test]
  fn anything_else_is_an_invalid_address() {
    for bad in [&b""[..], b"relative/path", b"vsock:2", b"vsock:x:1", b"vsock:4294967295:1", b"tcp:1.2.3.4"] {
      assert_eq!(parse(bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_ADDRESS", "{bad:?}");
    }
  }
}
