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
  value.iter().all(|&b| b >= 0x20 || b == b'\t') && std::str::from_utf8(value).is_ok()
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
  fn newlines_control_bytes_and_invalid_utf8_need_the_binary_form() {
    assert!(is_plain_text(b"hello world\t=x"));
    assert!(is_plain_text("héllo".as_bytes()));
    assert!(is_plain_text(b""));
    for binary in [&b"a\nb"[..], b"a\rb", b"\0", b"\x1b[0m", &[0xff, 0xfe]] {
      assert!(!is_plain_text(binary), "{binary:?}");
    }
  }
}
