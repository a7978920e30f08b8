'use strict'
// An entry's fields as lib/journal.js hands them to the native encoder: plain values as
// `KEY=value\n` lines of one string, the others (bytes, control characters) as `[name, value, ...]`
// for the binary-safe form; Errors, arrays (a repeated field) and the other value types turned
// into strings or bytes on the way.

const { codedError } = require('./errors')

/** A system error's errno as a positive number (Node stores it negated), if it has one. */
function errnoOf(err) {
  if (typeof err.errno === 'number' && Number.isInteger(err.errno) && err.errno !== 0) return Math.abs(err.errno)
  return undefined
}

/** Control characters other than tab: such a value needs the binary-safe form. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_BINARY = /[\x00-\x08\x0a-\x1f]/
// eslint-disable-next-line no-control-regex -- likewise
const NEEDS_BINARY_ALL = /[\x00-\x08\x0a-\x1f]/g

/** A name that would split its `KEY=value` line elsewhere than meant. */
const SPLITS_LINE = /[=\n]/

/**
 * An entry being built: plain fields as `KEY=value\n` text (one string for the native side to
 * read and check: one N-API call instead of two per field), the others as `[name, value, ...]`
 * for the binary-safe form, sent after the plain ones. `names` counts the bytes of the names in
 * the text, which the native side checks: a name holding `=` or a line break is found out there,
 * at no cost here. `strict` (the second try after that) checks each name here instead and sends
 * such a name the binary way, where the native side refuses it by name.
 */
class Fields {
  constructor(text = '', names = 0, strict = false, count = 0) {
    this.text = text
    this.names = names
    this.strict = strict
    this.binary = undefined
    /** How many fields, repeated values counted one by one (journald's limit is on that). */
    this.count = count
  }

  /** Whether `key` may go into the text lines (always, but on the strict try). */
  plainName(key) {
    return !this.strict || !SPLITS_LINE.test(key)
  }

  add(key, value) {
    this.count++
    if (typeof value === 'string' && !NEEDS_BINARY.test(value) && this.plainName(key)) {
      this.text += `${key}=${value}\n`
      this.names += key.length
    } else (this.binary ??= []).push(key, value)
  }

  /** All values of a repeated field in one form, so their order is kept. */
  addAll(key, values) {
    this.count += values.length
    if (this.plainName(key) && values.every((v) => typeof v === 'string' && !NEEDS_BINARY.test(v))) {
      for (const v of values) this.text += `${key}=${v}\n`
      this.names += key.length * values.length
    } else for (const v of values) (this.binary ??= []).push(key, v)
  }

  has(key) {
    return this.text.startsWith(`${key}=`) || this.text.includes(`\n${key}=`) || (this.binary?.some((v, i) => i % 2 === 0 && v === key) ?? false)
  }
}

/**
 * Adds the fields an Error becomes: `KEY=message`, `KEY_STACK`, `KEY_CODE` and `ERRNO` for a
 * system error. For the entry's MESSAGE the stack and code go to ERROR_STACK and ERROR_CODE.
 */
function addError(out, key, err) {
  const prefix = key === 'MESSAGE' ? 'ERROR' : key
  out.add(key, err.message || String(err))
  if (typeof err.stack === 'string') out.add(`${prefix}_STACK`, err.stack)
  if (err.code !== undefined && err.code !== null) out.add(`${prefix}_CODE`, String(err.code))
  const errno = errnoOf(err)
  if (errno !== undefined) out.add('ERRNO', String(errno))
}

function invalidValue(key, value) {
  return codedError(
    'ERR_SD_NOTIFY_INVALID_VALUE',
    `invalid journal value for ${key}: ${value === null ? 'null' : Array.isArray(value) ? 'a nested array' : typeof value} is not a string, number, bigint, boolean, Buffer/Uint8Array or Error (use an array to repeat a field)`,
  )
}

/** A value as a string or bytes; `undefined` for null/undefined (left out). Errors are expanded by the caller. */
function convert(key, value) {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value)
    case 'undefined':
      return undefined
    case 'object':
      if (value === null) return undefined
      if (value instanceof Uint8Array) return value
      if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
  throw invalidValue(key, value)
}

function addField(out, key, value) {
  if (value instanceof Error) return addError(out, key, value)
  if (!Array.isArray(value)) {
    const v = convert(key, value)
    if (v !== undefined) out.add(key, v)
    return
  }
  const values = []
  for (const v of value) {
    if (v instanceof Error) values.push(v.message || String(v))
    else if (Array.isArray(v)) throw invalidValue(key, v)
    else {
      const c = convert(key, v)
      if (c !== undefined) values.push(c)
    }
  }
  out.addAll(key, values)
}

module.exports = { Fields, addField, addError, NEEDS_BINARY, NEEDS_BINARY_ALL }
