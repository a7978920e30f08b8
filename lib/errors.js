'use strict'
// Every error created in JavaScript goes through here, with a code from CODES. The native binding
// creates its own (crates/sd-notify-protocol/src/error.rs, NotifyError::code); __test__/errors.test.js checks that
// both registries together are exactly the README's error table.

/** The codes JavaScript throws or reports (native ones live in NotifyError::code). */
const CODES = Object.freeze({
  INVALID_VALUE: 'ERR_SD_NOTIFY_INVALID_VALUE',
  INVALID_NUMBER: 'ERR_SD_NOTIFY_INVALID_NUMBER',
  INVALID_ADDRESS: 'ERR_SD_NOTIFY_INVALID_ADDRESS',
  INVALID_FD: 'ERR_SD_NOTIFY_INVALID_FD',
  NO_BINARY: 'ERR_SD_NOTIFY_NO_BINARY',
  UNSUPPORTED_PLATFORM: 'ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM',
  WATCHDOG_UNHEALTHY: 'ERR_SD_NOTIFY_WATCHDOG_UNHEALTHY',
  WATCHDOG_START: 'ERR_SD_NOTIFY_WATCHDOG_START',
  NO_SERVER_FD: 'ERR_SD_NOTIFY_NO_SERVER_FD',
  // Native too (NotifyError::InvalidFieldName); JavaScript throws it for a journal field name
  // that holds = or a line break, should the native side ever fail to name it.
  INVALID_KEY: 'ERR_SD_NOTIFY_INVALID_KEY',
  // Native too (NotifyError::EntryTooLarge); JavaScript throws it for a journal entry of more
  // fields than journald keeps (lib/journal.js, MAX_FIELDS).
  MESSAGE_TOO_LONG: 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG',
  // Native (NotifyError::Panic); JavaScript passes it on to the watchdog's onError.
  PANIC: 'ERR_SD_NOTIFY_PANIC',
  ETIMEDOUT: 'ETIMEDOUT',
})

const KNOWN = new Set(Object.values(CODES))

/** An Error (or `ErrorClass`) with a registered `code`. */
function codedError(code, message, { cause, ErrorClass = Error } = {}) {
  // errno names (EAGAIN, ECONNREFUSED, ...) come from the system, through the native side.
  if (!KNOWN.has(code) && !/^E[A-Z0-9]+$/.test(code)) throw new Error(`sd-notify-rs internal error: unregistered error code ${code}`)
  const err = new ErrorClass(message, cause === undefined ? undefined : { cause })
  err.code = code
  return err
}

/** How much of a user's input a message quotes: a 50 MB key must not make a 50 MB message. */
const ECHO_MAX = 100

/**
 * `value` as a message quotes it: JSON-quoted, and past ECHO_MAX characters cut with an ellipsis
 * and the full length (the Rust side does the same: crates/sd-notify-protocol/src/error.rs, `echo`).
 */
function echo(value) {
  let text
  try {
    text = typeof value === 'string' ? value : String(value)
  } catch {
    text = Object.prototype.toString.call(value)
  }
  const whole = text.length <= ECHO_MAX && JSON.stringify(text)
  if (whole && whole.length <= ECHO_MAX + 2) return whole
  // Cut by the quoted length (an escape such as \u0000 is six characters), never inside an escape.
  let shown = ''
  for (const ch of text) {
    const escaped = JSON.stringify(ch).slice(1, -1)
    if (shown.length + escaped.length > ECHO_MAX) break
    shown += escaped
  }
  return `"${shown}"… (${text.length} characters)`
}

module.exports = { CODES, codedError, echo, ECHO_MAX }
