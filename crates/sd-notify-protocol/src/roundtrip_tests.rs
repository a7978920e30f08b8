//! Property tests, run by every `cargo test`: what the encoders send, the stand-in receivers parse
//! back identically, and no input makes a parser panic. Seeded, so a failure repeats; the fuzz
//! targets in fuzz/ explore the same properties without a time limit.

use super::address;
use super::journal::entry::Entry;
use super::journal::parse::parse_entry;
use super::message::{parse_assignments, Message};

/// xorshift64*: small, seeded, good enough to spread inputs.
struct Rng(u64);

impl Rng {
  fn next(&mut self) -> u64 {
    self.0 ^= self.0 >> 12;
    self.0 ^= self.0 << 25;
    self.0 ^= self.0 >> 27;
    self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
  }
  fn below(&mut self, n: u64) -> u64 {
    self.next() % n
  }
  fn bytes(&mut self, max: u64, alphabet: &[u8]) -> Vec<u8> {
    (0..self.below(max + 1)).map(|_| alphabet[self.below(alphabet.len() as u64) as usize]).collect()
  }
}

const NAME_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_az-=. \n";
const RUNS: usize = 20_000;

fn any_bytes() -> Vec<u8> {
  (0..=255u8).collect()
}

#[test]
fn every_notification_the_builder_accepts_parses_back_to_exactly_its_assignments() {
  let mut rng = Rng(0x5d17_0001);
  let (mut sent, all) = (0, any_bytes());
  for _ in 0..RUNS {
    let pairs: Vec<(String, String)> = (0..rng.below(4) + 1)
      .map(|_| {
        let k = String::from_utf8_lossy(&rng.bytes(8, NAME_CHARS)).into_owned();
        let v = String::from_utf8_lossy(&rng.bytes(24, &all)).into_owned();
        (k, v)
      })
      .collect();
    let mut m = Message::new();
    if pairs.iter().any(|(k, v)| m.push(k, v).is_err()) {
      continue;
    }
    let Ok(datagram) = m.into_datagram() else { continue };
    sent += 1;
    let parsed: Vec<(String, String)> =
      parse_assignments(&datagram).into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
    assert_eq!(parsed, pairs, "datagram {datagram:?}");
  }
  assert!(sent > RUNS / 20, "the generator must produce valid messages too ({sent})");
}

#[test]
fn every_journal_entry_the_encoder_accepts_parses_back_to_exactly_its_fields() {
  let mut rng = Rng(0x5d17_0002);
  let (mut sent, all) = (0, any_bytes());
  for _ in 0..RUNS {
    let fields: Vec<(String, Vec<u8>)> = (0..rng.below(5) + 1)
      .map(|_| (String::from_utf8_lossy(&rng.bytes(10, NAME_CHARS)).into_owned(), rng.bytes(40, &all)))
      .collect();
    let mut e = Entry::default();
    if fields.iter().any(|(k, v)| e.push(k, v).is_err()) {
      continue;
    }
    let bytes = e.into_bytes().expect("non-empty and small");
    sent += 1;
    assert_eq!(parse_entry(&bytes).expect("what the encoder writes parses"), fields);
  }
  assert!(sent > RUNS / 20, "the generator must produce valid entries too ({sent})");
}

#[test]
fn no_bytes_make_a_parser_panic() {
  let mut rng = Rng(0x5d17_0003);
  let all = any_bytes();
  for _ in 0..RUNS {
    let data = rng.bytes(64, &all);
    let _ = address::parse(&data);
    let _ = parse_assignments(&data);
    let _ = parse_entry(&data);
  }
}
