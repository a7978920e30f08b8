//! Decoding an entry as journald does (both value forms), for the stand-in receiver.

use crate::error::{NotifyError, Result};

/// Splits `data` into its fields, in order: `(name, value)`. Refuses what journald would refuse:
/// a line without `=` that is not followed by a complete length-prefixed value, a bad name.
pub fn parse_entry(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
  let malformed = |reason: &str| NotifyError::value("entry", format!("malformed journal entry: {reason}"));
  let mut fields = Vec::new();
  let mut rest = data;
  while !rest.is_empty() {
    let Some(eol) = rest.iter().position(|&b| b == b'\n') else { return Err(malformed("the last field has no newline")) };
    let line = &rest[..eol];
    if let Some(eq) = line.iter().position(|&b| b == b'=') {
      fields.push((name(&line[..eq])?, line[eq + 1..].to_vec()));
      rest = &rest[eol + 1..];
      continue;
    }
    let after = &rest[eol + 1..];
    let Some(len) = after.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))) else {
      return Err(malformed("a binary field without its 8-byte length"));
    };
    let len = usize::try_from(len).map_err(|_| malformed("a binary field longer than memory"))?;
    let value = after.get(8..).and_then(|v| v.get(..len)).ok_or_else(|| malformed("a binary field shorter than its length"))?;
    if after.get(8 + len) != Some(&b'\n') {
      return Err(malformed("a binary field not followed by a newline"));
    }
    fields.push((name(line)?, value.to_vec()));
    rest = &after[8 + len + 1..];
  }
  Ok(fields)
}

fn name(raw: &[u8]) -> Result<String> {
  let name = String::from_utf8_lossy(raw).into_owned();
  super::field::validate_name(&name)?;
  Ok(name)
}

#[cfg(test)]
mod tests {
  use super::super::entry::Entry;
  use super::*;

  #[test]
  fn what_the_encoder_writes_parses_back_identically() {
    let values: [(&str, &[u8]); 5] =
      [("MESSAGE", b"multi\nline"), ("PRIORITY", b"3"), ("BIN", &[0, 1, 2, 255]), ("BIN", b""), ("TEXT", "héllo = x".as_bytes())];
    let mut e = Entry::default();
    for (k, v) in values {
      e.push(k, v).unwrap();
    }
    let parsed = parse_entry(&e.into_bytes().unwrap()).unwrap();
    let want: Vec<(String, Vec<u8>)> = values.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect();
    assert_eq!(parsed, want);
  }

  #[test]
  fn truncated_and_malformed_entries_are_refused_not_guessed() {
    for bad in
      [&b"MESSAGE=x"[..], b"MESSAGE\n\x05\0\0\0\0\0\0\0ab\n", b"MESSAGE\n\x01\0", b"MESSAGE\n\x01\0\0\0\0\0\0\0xy", b"_PID=1\n"]
    {
      assert!(parse_entry(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_entry(b"MESSAGE\n\xff\xff\xff\xff\xff\xff\xff\xff\n").unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE");
  }
}
