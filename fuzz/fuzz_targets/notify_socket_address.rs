//! NOTIFY_SOCKET as the environment gives it: any bytes. Parsing must return an address or a
//! coded error, never panic, and an address must come from a `/`, `@` or `vsock` form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::address::{parse, NotifyAddress};

fuzz_target!(|data: &[u8]| {
  match parse(data) {
    Ok(NotifyAddress::Unix(_)) => assert!(data.first() == Some(&b'/') || data.first() == Some(&b'@')),
    Ok(NotifyAddress::Vsock { .. }) => assert!(data.starts_with(b"vsock")),
    Err(e) => assert!(!e.code().is_empty()),
  }
});
