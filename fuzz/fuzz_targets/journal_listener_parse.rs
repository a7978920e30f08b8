//! What JournalListener parses: any bytes. Fields or a coded error, never a panic, never a
//! read past the end (binary lengths are checked against what is there).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sd_notify_protocol::journal::parse::parse_entry;

fuzz_target!(|data: &[u8]| {
  if let Ok(fields) = parse_entry(data) {
    let total: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(total <= data.len());
  }
});
