//! A notification built from arbitrary keys and values: refused with a code, or a datagram the
//! manager parses back into exactly those assignments (no value can inject another).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::message::{parse_assignments, Message};

fuzz_target!(|pairs: Vec<(String, String)>| {
  let mut m = Message::new();
  for (k, v) in &pairs {
    if m.push(k, v).is_err() {
      return;
    }
  }
  let Ok(datagram) = m.into_datagram() else { return };
  assert!(datagram.len() <= 4096);
  let parsed = parse_assignments(&datagram);
  assert_eq!(parsed.len(), pairs.len(), "every assignment is one line, none injected");
  for ((k, v), (pk, pv)) in pairs.iter().zip(parsed) {
    assert_eq!(&pk, k);
    assert_eq!(pv.as_deref(), Some(v.as_str()));
  }
});
