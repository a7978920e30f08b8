//! WATCHDOG_USEC / WATCHDOG_PID with any values: a setting, "none", or a coded error, never a panic;
//! a setting is never 0 or UINT64_MAX and never for another pid.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::watchdog_env::watchdog_settings;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|input: (Vec<u8>, Option<Vec<u8>>, u32)| {
  let (usec, pid, own) = input;
  let lookup = |k: &str| match k {
    "WATCHDOG_USEC" => Some(OsString::from_vec(usec.clone())),
    "WATCHDOG_PID" => pid.clone().map(OsString::from_vec),
    _ => None,
  };
  if let Ok(Some(s)) = watchdog_settings(lookup, own) {
    assert!(s.timeout_usec != 0 && s.timeout_usec != u64::MAX);
    assert!(s.pid.is_none_or(|p| p == own));
  }
});
