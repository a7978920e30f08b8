//! The `sockaddr_un` for a NOTIFY_SOCKET value: `/path` or `@abstract`.

use std::mem::{size_of, zeroed};

/// NOTIFY_SOCKET forms this tool needs: `/path` and `@abstract`.
pub fn sockaddr(addr: &[u8]) -> (libc::sockaddr_un, libc::socklen_t) {
  let mut sa: libc::sockaddr_un = unsafe { zeroed() };
  sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
  let base = size_of::<libc::sa_family_t>();
  if addr.is_empty() || addr.len() >= sa.sun_path.len() || !(addr[0] == b'/' || addr[0] == b'@') {
    eprintln!("sdbench-floor: unusable address {:?}", String::from_utf8_lossy(addr));
    std::process::exit(2);
  }
  for (i, b) in addr.iter().enumerate() {
    sa.sun_path[i] = *b as libc::c_char;
  }
  let len = if addr[0] == b'@' {
    sa.sun_path[0] = 0;
    base + addr.len() // abstract: no trailing NUL counted
  } else {
    base + addr.len() + 1
  };
  (sa, len as libc::socklen_t)
}

