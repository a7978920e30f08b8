//! Journal field names as journald accepts them (journal_field_valid), and which of the two
//! encodings a value needs.

use crate::error::{NotifyError, Result};

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
  find_control_from(bytes, 0, &mut false)
}

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// [`find_control`] from `at` on, setting `non_ascii` when a byte it read on the way is 0x80 or
/// above (it may read a few bytes past the control byte it finds, never past `bytes`). Words are
/// read little-endian on every architecture, so the lowest flagged byte is the first.
pub fn find_control_from(bytes: &[u8], mut at: usize, non_ascii: &mut bool) -> Option<usize> {
  let mut high = 0;
  while let Some(word) = bytes.get(at..at + 8) {
    let x = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
    high |= x;
    // Set for the lowest byte below 0x20 exactly (a borrow can only flag bytes above it).
    let below = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    if below != 0 {
      let first = at + (below.trailing_zeros() / 8) as usize;
      if bytes[first] != b'\t' {
        *non_ascii |= high & HIGHS != 0;
        return Some(first);
      }
      at = first + 1;
      continue;
    }
    at += 8;
  }
  *non_ascii |= high & HIGHS != 0;
  while let Some(&b) = bytes.get(at) {
    *non_ascii |= b >= 0x80;
    if b < 0x20 && b != b'\t' {
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
          for from in 0..=t.len() {
            let mut non_ascii = false;
            let found = find_control_from(&t, from, &mut non_ascii);
            assert_eq!(found, t[from..].iter().position(|&b| b < 0x20 && b != b'\t').map(|i| from + i), "{t:?} from {from}");
            // Every byte up to the one found was seen; bytes after it may have been.
            let seen = &t[from..found.unwrap_or(t.len())];
            if seen.iter().any(|&b| b >= 0x80) {
              assert!(non_ascii, "{t:?} from {from}");
            }
            if t[from..].iter().all(|&b| b < 0x80) {
              assert!(!non_ascii, "{t:?} from {from}");
            }
          }
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
