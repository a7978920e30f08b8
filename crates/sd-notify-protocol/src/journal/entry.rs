//! Encoding one journal entry: `KEY=value\n` for plain text, and `KEY\n` + the value's length as
//! a 64-bit little-endian integer (on every architecture) + the bytes + `\n` for anything else.

use super::field::{find_control_from, is_plain_text, validate_name, FIELD_NAME_MAX};
use crate::error::{NotifyError, Result};

/// journald's limit on an entry's data (ENTRY_SIZE_MAX, 768 MiB).
pub const ENTRY_SIZE_MAX: usize = 768 * 1024 * 1024;

/// An entry under construction: fields in order, each name checked when added. Repeated names
/// are allowed (one entry, several values).
#[derive(Debug, Default, Clone)]
pub struct Entry {
  bytes: Vec<u8>,
  fields: usize,
}

/// Checks `text` as a whole entry of `KEY=value\n` lines, each as [`Entry::push`] would (a valid
/// name, a plain value); returns how many fields it holds. `name_bytes` is how many bytes of
/// names its writer put in: a name that held `=` or a line break would split its line elsewhere
/// (`A=B` + `c` reads as `A` = `B=c`), and the names found then add up to less
/// (ERR_SD_NOTIFY_INVALID_KEY). An entry this check accepts can be sent as it is, with no copy.
pub fn check_lines(text: &[u8], name_bytes: usize) -> Result<usize> {
  let lines = text.strip_suffix(b"\n").ok_or_else(|| NotifyError::value("entry", "the field lines must end with a newline"))?;
  // Every log line passes here: one pass for the usual, valid entry; the precise error comes
  // from the line-by-line check only when that pass fails.
  let (fields, found) = match count_plain_lines(lines) {
    Some(counted) => counted,
    None => explain_lines(lines)?,
  };
  if found != name_bytes {
    return Err(NotifyError::FieldNamesSplit);
  }
  if text.len() > ENTRY_SIZE_MAX {
    return Err(NotifyError::EntryTooLarge { len: text.len() });
  }
  Ok(fields)
}

/// How many valid `KEY=value` lines `lines` holds and the bytes of their names, or `None` at the
/// first thing wrong. One pass: names through a table, values eight bytes at a time, and UTF-8
/// checked only when a byte of a value is not ASCII (names are ASCII by the table).
fn count_plain_lines(lines: &[u8]) -> Option<(usize, usize)> {
  let (mut fields, mut names, mut at, mut non_ascii) = (0, 0, 0, false);
  loop {
    let name = name_length(lines.get(at..)?)?;
    fields += 1;
    names += name;
    // The value ends at the first control byte: the newline that ends its line, or a byte a
    // plain value may not hold.
    match find_control_from(lines, at + name + 1, &mut non_ascii) {
      None => break,
      Some(end) if lines[end] == b'\n' => at = end + 1,
      Some(_) => return None,
    }
  }
  // `\n` and `=` are ASCII, so the whole text is UTF-8 exactly when every value is.
  if non_ascii {
    std::str::from_utf8(lines).ok()?;
  }
  Some((fields, names))
}

/// The length of the valid field name that starts `line` and ends at its `=`, or `None`.
fn name_length(line: &[u8]) -> Option<usize> {
  if !line.first()?.is_ascii_uppercase() {
    return None;
  }
  // A plain indexed loop over a table: iterator adaptors cost several times more here.
  let mut i = 1;
  while let Some(&b) = line.get(i) {
    if !NAME_BYTE[b as usize] {
      return (b == b'=' && i <= FIELD_NAME_MAX).then_some(i);
    }
    i += 1;
  }
  None
}

/// The bytes a field name may hold after its first: A-Z, 0-9 and _.
static NAME_BYTE: [bool; 256] = {
  let mut table = [false; 256];
  let mut b = 0;
  while b < 256 {
    table[b] = matches!(b as u8, b'A'..=b'Z' | b'0'..=b'9' | b'_');
    b += 1;
  }
  table
};

/// The line-by-line check, for its error; the same count as [`count_plain_lines`] otherwise.
fn explain_lines(lines: &[u8]) -> Result<(usize, usize)> {
  let (mut fields, mut names) = (0, 0);
  for line in lines.split(|&b| b == b'\n') {
    // A line without `=`: a name that held a line break (a value never does in this form).
    let eq = line.iter().position(|&b| b == b'=').ok_or(NotifyError::FieldNamesSplit)?;
    let name = std::str::from_utf8(&line[..eq]).map_err(|_| NotifyError::InvalidFieldName {
      name: String::from_utf8_lossy(&line[..eq]).into_owned(),
      reason: "it holds a character other than A-Z, 0-9 and _",
    })?;
    validate_name(name)?;
    if !is_plain_text(&line[eq + 1..]) {
      return Err(NotifyError::value(name, "a value with control characters needs the binary-safe form"));
    }
    fields += 1;
    names += eq;
  }
  Ok((fields, names))
}

impl Entry {
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

  /// An entry that starts with `text`, checked as [`push_lines`](Self::push_lines) checks it
  /// (empty: an empty entry).
  pub fn from_lines(text: &[u8], name_bytes: usize) -> Result<Self> {
    let mut entry = Self::default();
    if !text.is_empty() {
      entry.push_lines(text, name_bytes)?;
    }
    Ok(entry)
  }

  /// Takes `text`, already encoded as `KEY=value\n` lines (what lib/journal.js builds for plain
  /// values) whose names hold `name_bytes` bytes, checking every line as [`push`](Self::push)
  /// would (a valid name, a plain value) and the names as [`check_lines`] does.
  pub fn push_lines(&mut self, text: &[u8], name_bytes: usize) -> Result<&mut Self> {
    self.fields += check_lines(text, name_bytes)?;
    self.bytes.extend_from_slice(text);
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
  fn the_one_pass_check_accepts_exactly_what_the_line_by_line_check_accepts() {
    // Every string of up to 6 pieces over a small alphabet of the bytes that matter.
    let alphabet: &[&[u8]] = &[b"A", b"1", b"_", b"=", b"\n", b"\t", b"a", b"\r", "\u{e9}".as_bytes(), &[0xff]];
    let mut stack: Vec<(Vec<u8>, usize)> = vec![(Vec::new(), 0)];
    let mut checked = 0;
    while let Some((text, pieces)) = stack.pop() {
      assert_eq!(count_plain_lines(&text), explain_lines(&text).ok(), "{:?}", String::from_utf8_lossy(&text));
      if let Some((_, names)) = count_plain_lines(&text) {
        let mut entry = text.clone();
        entry.push(b'\n');
        assert!(check_lines(&entry, names).is_ok());
        assert_eq!(check_lines(&entry, names + 1), Err(NotifyError::FieldNamesSplit));
      }
      checked += 1;
      if pieces < 6 {
        for piece in alphabet {
          stack.push(([text.as_slice(), piece].concat(), pieces + 1));
        }
      }
    }
    assert!(checked > 1_000_000);
  }

  #[test]
  fn a_name_holding_an_equals_sign_or_a_line_break_is_found_out() {
    // What `A=B` = `c` and `A\nB` = `c` look like as lines: their names hold 3 bytes.
    assert_eq!(check_lines(b"A=B=c\n", 3), Err(NotifyError::FieldNamesSplit));
    assert_eq!(check_lines(b"A\nB=c\n", 3), Err(NotifyError::FieldNamesSplit));
    assert_eq!(check_lines(b"A=B=c\n", 1), Ok(1), "the name A with the value B=c is fine");
    assert_eq!(Entry::from_lines(b"A=B=c\n", 3).unwrap_err(), NotifyError::FieldNamesSplit);
    let mut empty = Entry::from_lines(b"", 0).unwrap();
    assert_eq!(empty.push("BIN", b"\n").unwrap().clone().into_bytes().unwrap(), b"BIN\n\x01\0\0\0\0\0\0\0\n\n");
    assert_eq!(NotifyError::FieldNamesSplit.code(), "ERR_SD_NOTIFY_INVALID_KEY");
  }

  #[test]
  fn long_and_non_ascii_values_are_checked_across_words() {
    let long = format!("MESSAGE={}\nX=\u{e9}t\u{e9}\tok\n", "a".repeat(100));
    assert_eq!(check_lines(long.as_bytes(), 8), Ok(2));
    let mut bad_utf8 = b"MESSAGE=abcdefghij".to_vec();
    bad_utf8.extend_from_slice(&[0xc3, b'\n']);
    assert_eq!(check_lines(&bad_utf8, 7).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE");
    assert_eq!(check_lines(b"MESSAGE=abcdefghijkl\x1bmnop\n", 7).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE");
  }

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
  fn prebuilt_lines_are_checked_like_pushed_fields() {
    let mut e = Entry::default();
    e.push_lines(b"MESSAGE=hi\nPRIORITY=6\n", 15).unwrap().push("BIN", b"\0").unwrap();
    assert_eq!(e.into_bytes().unwrap(), b"MESSAGE=hi\nPRIORITY=6\nBIN\n\x01\0\0\0\0\0\0\0\0\n");
    for bad in [&b"message=x\n"[..], b"MESSAGE=x", b"NOEQUALS\n", b"_PID=1\n", b"A=\x1b\n", b"\n"] {
      assert!(Entry::default().push_lines(bad, bad.iter().position(|&b| b == b'=').unwrap_or(0)).is_err(), "{bad:?}");
    }
  }

  #[test]
  fn an_empty_entry_and_a_bad_name_are_refused() {
    assert_eq!(Entry::default().into_bytes().unwrap_err(), NotifyError::EmptyMessage);
    assert_eq!(Entry::default().push("_PID", b"1").unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_KEY");
  }
}
