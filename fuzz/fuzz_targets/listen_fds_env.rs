//! LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PIDFDID with any values: descriptors
//! starting at 3 with one name each, nothing, or a coded error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::listen_fds::parse;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|input: (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>, u32, Option<u64>)| {
  let (pid, fds, names, pidfdid, own, own_id) = input;
  let lookup = |k: &str| {
    match k {
      "LISTEN_PID" => pid.clone(),
      "LISTEN_FDS" => fds.clone(),
      "LISTEN_FDNAMES" => names.clone(),
      "LISTEN_PIDFDID" => pidfdid.clone(),
      _ => None,
    }
    .map(OsString::from_vec)
  };
  if let Ok(list) = parse(lookup, own, || own_id) {
    for (i, f) in list.iter().enumerate() {
      assert_eq!(f.fd, 3 + i as i32);
    }
  }
});
