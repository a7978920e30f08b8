//! Arguments and options objects read from JavaScript, by one rule for every function: a value of
//! the wrong type is a `TypeError` whose `code` is ERR_SD_NOTIFY_INVALID_NUMBER (a number was
//! expected) or ERR_SD_NOTIFY_INVALID_VALUE (anything else), and whose message names the function
//! and the argument (`ready(status) must be a string, undefined or null; got a number`). Functions take `Unknown` and convert here because
//! napi-rs's own conversion words its refusals with Rust type names and throws a plain `Error`.
//!
//! Objects are read by their own enumerable properties only: an inherited property (prototype
//! pollution: `Object.prototype.MAINPID = 1`) is never taken for the caller's.

use napi::bindgen_prelude::{
  FromNapiValue, JsObjectValue, JsTypeError, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown,
};
use napi::{Env, ValueType};

use super::error::{napi_error, Result};
use sd_notify_protocol::NotifyError;

/// The characters of a function and argument name a message echoes at most.
const WHAT_MAX: usize = 120;

/// A value of the wrong type for `what` (`ready(status)`, `fdStore(options.name)`).
pub struct WrongType {
  code: String,
  message: String,
}

impl WrongType {
  /// `what` must be `expected` (`"a string, undefined or null"`); `got` is what came.
  pub fn new(what: &str, expected: &str, got: &Unknown) -> Self {
    // Numbers expected: the code a bad number has (NaN, negative) too. (Codes are spelled in
    // crates/sd-notify-protocol/src/error.rs only.)
    let number = expected.starts_with("a number");
    let code = if number { NotifyError::number("", "") } else { NotifyError::value("", "") }.code();
    // The type only, never the value, and `what` cut short: it may hold a key of the caller's,
    // which may be megabytes long.
    let what = match what.char_indices().nth(WHAT_MAX) {
      Some((end, _)) => format!("{}…", &what[..end]),
      None => what.to_owned(),
    };
    Self { code, message: format!("{what} must be {expected}; got {}", describe(got)) }
  }

  /// As the exception of the current call (a `TypeError`); the returned error tells napi-rs the
  /// exception is already pending.
  pub fn throw(self, env: &Env) -> napi::Error<String> {
    match env.throw_type_error(&self.message, Some(&self.code)) {
      Ok(()) => napi::Error::new("PendingException".to_owned(), self.message),
      // (Throwing fails only while the environment tears down: a plain coded error then.)
      Err(_) => napi::Error::new(self.code, self.message),
    }
  }

  /// As a promise's rejection (a `TypeError` with `code`), created on the JS thread of `env`.
  pub fn rejection(self, env: Env) -> napi::Error {
    napi::Error::from(JsTypeError::from(napi::Error::new(self.code, self.message)).into_unknown(env))
  }
}

/// `a number`, `a string`, `null`, ... for messages.
fn describe(value: &Unknown) -> &'static str {
  match value.get_type() {
    Ok(ValueType::Undefined) => "undefined",
    Ok(ValueType::Null) => "null",
    Ok(ValueType::Boolean) => "a boolean",
    Ok(ValueType::Number) => "a number",
    Ok(ValueType::String) => "a string",
    Ok(ValueType::Symbol) => "a symbol",
    Ok(ValueType::Object) => "an object",
    Ok(ValueType::Function) => "a function",
    Ok(ValueType::BigInt) => "a bigint",
    _ => "a value of another type",
  }
}

/// The type of `value`, `Unknown` when napi cannot tell (never in practice).
pub fn type_of(value: &Unknown) -> ValueType {
  value.get_type().unwrap_or(ValueType::Unknown)
}

/// `undefined` and `null`: "not given".
pub fn is_nullish(value: &Unknown) -> bool {
  matches!(type_of(value), ValueType::Undefined | ValueType::Null)
}

/// `value` if it is of type `kind`, converted; else `None`.
fn typed<T: FromNapiValue>(value: &Unknown, kind: ValueType) -> Option<T> {
  (type_of(value) == kind).then(|| T::from_unknown(*value).ok()).flatten()
}

/// A string argument. (The conversion itself refuses anything else: no type query first, as this
/// runs on every status().)
pub fn string(env: &Env, value: Unknown, what: &str) -> Result<String> {
  String::from_unknown(value).map_err(|_| WrongType::new(what, "a string", &value).throw(env))
}

/// An optional string argument: `undefined` or `null` give `None`. (`value` is not an `Option`:
/// napi-rs would ask for its type once more.)
pub fn optional_string(env: &Env, value: Unknown, what: &str) -> Result<Option<String>> {
  // One type query: this runs on every ready()/stopping()/reloading().
  match type_of(&value) {
    ValueType::String => String::from_unknown(value).map(Some).map_err(napi_error),
    ValueType::Undefined | ValueType::Null => Ok(None),
    _ => Err(WrongType::new(what, "a string, undefined or null", &value).throw(env)),
  }
}

/// A number argument (its range is the caller's to check).
pub fn number(env: &Env, value: Unknown, what: &str) -> Result<f64> {
  f64::from_unknown(value).map_err(|_| WrongType::new(what, "a number", &value).throw(env))
}

/// An optional number, or what is wrong with it (for promises, which reject instead of
/// throwing): `undefined` and `null` give `None`.
pub fn optional_number_or(value: Option<Unknown>, what: &str) -> std::result::Result<Option<f64>, WrongType> {
  match value {
    Some(v) if !is_nullish(&v) => {
      typed(&v, ValueType::Number).map(Some).ok_or_else(|| WrongType::new(what, "a number, undefined or null", &v))
    }
    _ => Ok(None),
  }
}

/// An optional options object: `undefined` or `null` give `None`.
pub fn options<'a>(env: &Env, value: Option<Unknown<'a>>, what: &str) -> Result<Option<Object<'a>>> {
  match value {
    Some(v) if !is_nullish(&v) => match type_of(&v) {
      ValueType::Object => Object::from_unknown(v).map(Some).map_err(napi_error),
      _ => Err(WrongType::new(what, "an object, undefined or null", &v).throw(env)),
    },
    _ => Ok(None),
  }
}

/// The own enumerable string keys of `object`, in property order (no inherited ones, no symbols).
pub fn own_keys(object: &Object) -> napi::Result<Vec<String>> {
  let names =
    object.get_all_property_names(KeyCollectionMode::OwnOnly, KeyFilter::Enumerable, KeyConversion::NumbersToStrings)?;
  let len = names.get_array_length()?;
  let mut keys = Vec::with_capacity(len as usize);
  for i in 0..len {
    let name: Unknown = names.get_element(i)?;
    // (Symbol keys come too: skipped, as `Object.keys()` does.)
    if let Some(name) = typed::<String>(&name, ValueType::String) {
      keys.push(name);
    }
  }
  Ok(keys)
}

/// Own property `key` of `object`, `None` when it is not an own property or is `undefined`/`null`.
pub fn own<'a>(object: &Object<'a>, key: &str) -> napi::Result<Option<Unknown<'a>>> {
  if !object.has_own_property(key)? {
    return Ok(None);
  }
  let value: Unknown<'a> = object.get_named_property(key)?;
  Ok((!is_nullish(&value)).then_some(value))
}

/// A boolean.
pub fn boolean(env: &Env, value: Unknown, what: &str) -> Result<bool> {
  typed(&value, ValueType::Boolean).ok_or_else(|| WrongType::new(what, "a boolean", &value).throw(env))
}

/// An array of numbers (their range is the caller's to check).
pub fn numbers(env: &Env, value: Unknown, what: &str) -> Result<Vec<f64>> {
  let wrong = |v: &Unknown| WrongType::new(what, "an array of numbers", v).throw(env);
  let array: Object = typed(&value, ValueType::Object).ok_or_else(|| wrong(&value))?;
  let len = array.get_array_length().map_err(|_| wrong(&value))?;
  let mut out = Vec::with_capacity(len.min(256) as usize);
  for i in 0..len {
    let element: Unknown = array.get_element(i).map_err(napi_error)?;
    // `notify(options.fds)` -> `notify(options.fds[0])`.
    let item = what.strip_suffix(')').map_or_else(|| format!("{what}[{i}]"), |w| format!("{w}[{i}])"));
    let wrong_item = |v: &Unknown| WrongType::new(&item, "a number", v).throw(env);
    out.push(typed(&element, ValueType::Number).ok_or_else(|| wrong_item(&element))?);
  }
  Ok(out)
}
