'use strict'
// How a logger's record becomes journal fields, shared by the pino and winston transports: names
// journald accepts and a person can type (`reqId` -> `REQ_ID`, `req.method` -> `REQ_METHOD`),
// values as text, arrays as repeated fields, an error's stack kept.

const { codedError } = require('../lib/errors')

/** Fields journald or this package set: a record's own field of that name gets an `X_` prefix. */
const RESERVED = new Set(['MESSAGE', 'PRIORITY', 'SYSLOG_IDENTIFIER', 'CODE_FILE', 'CODE_LINE', 'CODE_FUNC', 'ERRNO', 'MESSAGE_ID'])

/** Nesting deeper than this is kept as one JSON value. */
const MAX_DEPTH = 3

/**
 * A journal field name for a record key: camelCase and kebab-case split into words, every
 * character outside `A-Z0-9_` a `_`, upper case, no leading `_`, a leading digit prefixed with
 * `F`, at most 64 characters. `''` when nothing is left.
 */
function fieldName(key) {
  let name = String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+/, '')
  if (/^[0-9]/.test(name)) name = `F${name}`
  return name.slice(0, 64).replace(/_+$/, '')
}

/** A value as journal text: strings as they are, other scalars via String, objects as JSON. */
function text(value) {
  if (typeof value === 'string') return value
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value)
    } catch {
      return String(value)
    }
  }
  return String(value)
}

/**
 * Adds `value` under `name` to `out` (an object of journal fields): nested objects flattened with
 * `_` up to MAX_DEPTH, arrays of scalars as a repeated field, anything else as JSON text.
 */
function addValue(out, name, value, depth) {
  if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') return
  if (!name) return
  if (RESERVED.has(name)) name = `X_${name}`
  if (value instanceof Error) return addError(out, name, value)
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const values = value.filter((v) => v !== null && v !== undefined).map(text)
      if (values.length) out[name] = values
    } else {
      out[name] = text(value)
    }
    return
  }
  if (typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    if (depth >= MAX_DEPTH) {
      out[name] = text(value)
      return
    }
    for (const key of Object.keys(value)) addValue(out, joinName(name, fieldName(key)), value[key], depth + 1)
    return
  }
  out[name] = value instanceof Uint8Array ? value : value instanceof Date ? value.toISOString() : text(value)
}

function joinName(prefix, name) {
  return name ? `${prefix}_${name}`.slice(0, 64).replace(/_+$/, '') : ''
}

/**
 * An error (an Error, or pino's serialized `{ type, message, stack }`) under `name`: `NAME` is its
 * message, `NAME_TYPE`, `NAME_STACK`, `NAME_CODE`, and its other own fields flattened.
 */
function addError(out, name, err) {
  if (err.message !== undefined) out[name] = String(err.message)
  const type = err.type ?? (err instanceof Error ? err.name : undefined)
  if (type !== undefined) out[`${name}_TYPE`] = String(type)
  if (typeof err.stack === 'string') out[`${name}_STACK`] = err.stack
  for (const key of Object.keys(err)) {
    if (key === 'message' || key === 'type' || key === 'stack') continue
    addValue(out, joinName(name, fieldName(key)), err[key], 1)
  }
}

/**
 * The journal fields of one record. `record` holds the logger's fields; `skip` names the keys
 * handled elsewhere (message, level, ...); `keep`, when given, is the only keys kept.
 */
function recordFields(record, { skip, keep, prefix = '' }) {
  const out = {}
  for (const key of Object.keys(record)) {
    if (skip.has(key) || (keep && !keep.has(key))) continue
    const value = record[key]
    // pino's and winston's conventional error keys keep their stack.
    const name = fieldName(key)
    if ((key === 'err' || key === 'error') && value && typeof value === 'object') addError(out, prefix ? joinName(fieldName(prefix), name) : name, value)
    else addValue(out, prefix ? joinName(fieldName(prefix), name) : name, value, 0)
  }
  return out
}

/** Checks the options both transports share; returns them normalised. */
function transportOptions(options, who) {
  if (options === null || typeof options !== 'object') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: options must be an object`)
  const { identifier, socket, fields, exclude, prefix = '' } = options
  for (const [name, list] of [['fields', fields], ['exclude', exclude]]) {
    if (list !== undefined && (!Array.isArray(list) || !list.every((k) => typeof k === 'string'))) {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: ${name} must be an array of field names`)
    }
  }
  if (typeof prefix !== 'string') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: prefix must be a string`)
  return { identifier, socket, keep: fields ? new Set(fields) : undefined, exclude, prefix }
}

module.exports = { fieldName, recordFields, transportOptions, RESERVED }
