//! JavaScript numbers at the boundary: the binding turns them into the protocol's integers here,
//! so the core (`protocol`) never sees an `f64`.

use sd_notify_protocol::error::{NotifyError, Result};

/// JavaScript numbers are exact only up to 2^53 - 1.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Turns a JavaScript number into the decimal the protocol wants, refusing anything that is not
/// a non-negative safe integer.
pub fn decimal_from_f64(key: &str, n: f64) -> Result<u64> {
  if n.is_nan() {
    Err(NotifyError::number(key, "NaN is not a number the manager understands"))
  } else if n.is_infinite() {
    Err(NotifyError::number(key, "it is infinite"))
  } else if n < 0.0 {
    Err(NotifyError::number(key, format!("{n} is negative")))
  } else if n.fract() != 0.0 {
    Err(NotifyError::number(key, format!("{n} is not an integer")))
  } else if n > MAX_SAFE_INTEGER {
    Err(NotifyError::number(key, format!("{n} is above Number.MAX_SAFE_INTEGER")))
  } else {
    Ok(n as u64)
  }
}

/// Milliseconds from JavaScript to the protocol's microseconds.
pub fn usec_from_ms(key: &str, ms: f64) -> Result<u64> {
  let ms = decimal_from_f64(key, ms)?;
  // ms <= 2^53, so ms * 1000 < 2^63: no overflow.
  Ok(ms * 1000)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn numbers_must_be_non_negative_safe_integers() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 1.5, 9_007_199_254_740_992.0] {
      assert_eq!(decimal_from_f64("ERRNO", bad).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_NUMBER", "{bad}");
    }
    assert_eq!(decimal_from_f64("ERRNO", 0.0).unwrap(), 0);
    assert_eq!(usec_from_ms("WATCHDOG_USEC", 1500.0).unwrap(), 1_500_000);
  }
}
