//! Encoding one journal entry: `KEY=value\n` for plain text, and `KEY\n` + the value's length as
//! a 64-bit little-endian integer (on every architecture) + the bytes + `\n` for anything else.

use super::field::{is_plain_text, validate_name};
use crate::protocol::error::{NotifyError, Result};

/// journald's limit on an entry's data (ENTRY_SIZE_MAX, 768 MiB).
pub const ENTRY_SIZE_MAX: usize = 768 * 1024 * 1024;

/// An entry under construction: fields in order, each name checked when added. Repeated names
/// are allowed (one entry, several values).
#[derive(Debug, Default, Clone)]
pub struct Entry {
  bytes: Vec<u8>,
  fields: usize,
}

impl Entry {
  pub fn with_capacity(bytes: usize) -> Self {
    Self { bytes: Vec::with_capacity(bytes), fields: 0 }
  }

  /// Adds one field, in the form its value needs.
  pub fn push(&mut self, name: &str, value: &[u8]) -> Result<&mut Self> {
    validate_name(name)?;
    self.bytes.extend_from_slice(name.as_bytes());
    if is_plain_text(value) {
      self.bytes.push(b'=');
    } else {
      self.bytes.push(b'\n');
      self.bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
    }
    self.bytes.extend_from_slice(value);
    self.bytes.push(b'\n');
    self.fields += 1;
    Ok(self)
  }

  /// The encoded entry, or an error when it is empty or over journald's limit.
  pub fn into_bytes(self) -> Result<Vec<u8>> {
    if self.fields == 0 {
      return Err(NotifyError::EmptyMessage);
    }
    if self.bytes.len() > ENTRY_SIZE_MAX {
      return Err(NotifyError::EntryTooLarge { len: self.bytes.len() });
    }
    Ok(self.bytes)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn plain_values_are_key_equals_value_lines() {
    let mut e = Entry::default();
    e.push("MESSAGE", b"hello").unwrap().push("PRIORITY", b"6").unwrap();
    assert_eq!(e.into_bytes().unwrap(), b"MESSAGE=hello\nPRIORITY=6\n");
  }

  #[test]
  fn values_with_newlines_use_a_little_endian_length_prefix() {
    let mut e = Entry::default();
    e.push("MESSAGE", b"a\nb").unwrap();
    let mut want = b"MESSAGE\n".to_vec();
    want.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
    want.extend_from_slice(b"a\nb\n");
    assert_eq!(e.into_bytes().unwrap(), want);
  }

  #[test]
  fn repeated_names_are_kept_in_order() {
    let mut e = Entry::default();
    e.push("TAG", b"a").unwrap().push("TAG", b"b").unwrap();
    assert_eq!(e.into_bytes().unwrap(), b"TAG=a\nTAG=b\n");
  }

  #[test]
  fn an_empty_entry_and_a_bad_name_are_refused() {
    assert_eq!(Entry::default().into_bytes().unwrap_err(), NotifyError::EmptyMessage);
    assert_eq!(Entry::default().push("_PID", b"1").unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_KEY");
  }
}
