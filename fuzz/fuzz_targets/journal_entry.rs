//! A journal entry from arbitrary field names and byte values: refused with a code, or bytes that
//! the stand-in receiver's parser reads back as exactly those fields (both value encodings,
//! little-endian lengths).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::journal::entry::Entry;
use sd_notify_protocol::journal::parse::parse_entry;

fuzz_target!(|fields: Vec<(String, Vec<u8>)>| {
  let mut e = Entry::default();
  for (k, v) in &fields {
    if e.push(k, v).is_err() {
      return;
    }
  }
  let Ok(bytes) = e.into_bytes() else { return };
  let parsed = parse_entry(&bytes).expect("what the encoder writes parses");
  assert_eq!(parsed, fields);
});
