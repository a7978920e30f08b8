//! What NotifyListener parses: any datagram. Never a panic; no parsed key or value holds a line
//! end (a key may be empty: the manager ignores a line that starts with `=`, and so do we).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::message::parse_assignments;

fuzz_target!(|data: &[u8]| {
  for (k, v) in parse_assignments(data) {
    assert!(!k.contains('\n') && !k.contains('\r'));
    assert!(v.is_none_or(|v| !v.contains('\n') && !v.contains('\r')));
  }
});
