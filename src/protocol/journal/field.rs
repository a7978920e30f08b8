//! Journal field names as journald accepts them (journal_field_valid), and which of the two
//! encodings a value needs.

use crate::protocol::error::{NotifyError, Result};

/// journald refuses longer field names.
pub const FIELD_NAME_MAX: usize = 64;

/// Checks `name` the way journald does, so a name it would drop is refused before sending.
pub fn validate_name(name: &str) -> Result<()> {
  let bytes = name.as_bytes();
  let reason = match bytes.first() {
    None => "it is empty",
    _ if bytes.len() > FIELD_NAME_MAX => "it is longer than 64 characters",
    Some(b'_') => "names starting with _ are trusted fields that only journald sets",
    Some(b) if b.is_ascii_digit() => "it starts with a digit",
    _ if !bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_') => {
      "it holds a character other than A-Z, 0-9 and _"
    }
    _ => return Ok(()),
  };
  Err(NotifyError::InvalidFieldName { name: name.into(), reason })
}

/// Whether `value` can travel as `KEY=value\n`: text with no newline and no other control
/// character but tab. Anything else takes the binary-safe, length-prefixed form.
pub fn is_plain_text(value: &[u8]) -> bool {
  find_control(value).is_none() && std::str::from_utf8(value).is_ok()
}

/// The first control byte of `bytes` other than tab (a byte below 0x20), eight bytes at a time.
pub fn find_control(bytes: &[u8]) -> Option<usize> {
  const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
  const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
  let is_control = |b: u8| b < 0x20 && b != b'\t';
  let mut at = 0;
  while let Some(word) = bytes.get(at..at + 8) {
    let x = u64::from_ne_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
    // Non-zero exactly when some byte of x is below 0x20 (exact for any bound up to 0x80).
    if x.wrapping_sub(ONES * 0x20) & !x & HIGHS != 0 {
      for (i, &b) in word.iter().enumerate() {
        if is_control(b) {
          return Some(at + i);
        }
      }
    }
    at += 8;
  }
  while at < bytes.len() {
    if is_control(bytes[at]) {
      return Some(at);
    }
    at += 1;
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_follow_journalds_rules() {
    for good in ["MESSAGE", "A", "X_1", "CODE_FILE", &"A".repeat(64)] {
      assert!(validate_name(good).is_ok(), "{good}");
    }
    for bad in ["", "_PID", "1ABC", "message", "A-B", "A B", "É", &"A".repeat(65)] {
      assert_eq!(validate_name(bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_KEY", "{bad:?}");
    }
  }

  #[test]
  fn the_first_control_byte_is_found_wherever_it_is() {
    for len in 0..40 {
      let mut text = vec![b'a'; len];
      assert_eq!(find_control(&text), None);
      text.extend_from_slice("\té€".as_bytes());
      assert_eq!(find_control(&text), None, "tab and multi-byte characters are not control bytes");
      for at in 0..text.len() {
        for control in [0u8, b'\n', b'\r', 0x1b, 0x1f] {
          let mut t = text.clone();
          t[at] = control;
          let first = t.iter().position(|&b| b < 0x20 && b != b'\t');
          assert_eq!(find_control(&t), first, "{t:?}");
        }
      }
    }
  }

  #[test]
  fn newlines_control_bytes_and_invalid_utf8_need_the_binary_form() {
    assert!(is_plain_text(b"hello world\t=x"));
    assert!(is_plain_text("héllo".as_bytes()));
    assert!(is_plain_text(b""));
    for binary in [&b"a\nb"[..], b"a\rb", b"\0", b"\x1b[0m", &[0xff, 0xfe]] {
      assert!(!is_plain_text(binary), "{binary:?}");
    }
  }
}
