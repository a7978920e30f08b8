'use strict'
// How a logger's record becomes journal fields, shared by the pino and winston transports: names
// journald accepts and a person can type (`reqId` -> `REQ_ID`, `req.method` -> `REQ_METHOD`),
// values as text, arrays as repeated fields, an error's stack kept. Nothing of a record is lost:
// - keys that map to one name (`reqId`, `req_id`, `req-id` -> `REQ_ID`) make it a repeated field,
//   one value per key, in the record's order (`journalctl REQ_ID=<any of them>` finds the entry);
// - a character outside ASCII letters and digits (`café`, `用户`) becomes `U` and its code point in
//   hex (`CAF_UE9`, `U7528_U6237`), so distinct keys keep distinct names;
// - a key left with no name at all (`''`, `'--'`), and every field past what one entry may carry
//   (lib/journal.js MAX_FIELDS, repeated values counted), go into one field, FIELDS_JSON: a JSON
//   object of those fields by name (by the record's own key for a nameless one).

const { codedError } = require('../lib/errors')
const { PRIORITIES, MAX_FIELDS } = require('../lib/journal')

/** Fields journald or this package set: a record's own field of that name gets an `X_` prefix. */
const RESERVED = new Set(['MESSAGE', 'PRIORITY', 'SYSLOG_IDENTIFIER', 'CODE_FILE', 'CODE_LINE', 'CODE_FUNC', 'ERRNO', 'MESSAGE_ID', 'FIELDS_JSON'])

/** The field holding, as JSON, what did not get a field of its own. */
const FOLDED = 'FIELDS_JSON'

/** What a transport adds to every entry besides the record's fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, FIELDS_JSON. */
const ADDED_FIELDS = 4

/** Nesting deeper than this is kept as one JSON value. */
const MAX_DEPTH = 3

/**
 * Logger level names journald does not know, as the journald level they mean (the priorities
 * themselves are lib/journal.js's PRIORITIES, the one table).
 */
const LEVEL_ALIASES = { emergency: 'emerg', critical: 'crit', fatal: 'crit', http: 'info', verbose: 'debug', trace: 'debug', silly: 'debug' }

/** A level name's syslog priority, or `undefined` for a name neither journald nor a logger uses. */
function levelPriority(name) {
  if (typeof name !== 'string') return undefined
  const level = Object.hasOwn(LEVEL_ALIASES, name) ? LEVEL_ALIASES[name] : name
  return Object.hasOwn(PRIORITIES, level) ? PRIORITIES[level] : undefined
}

/**
 * A transport's `priorities` option (`{ level name: priority or journald level name }`) checked, as a
 * function from level name to priority (undefined when neither it nor the defaults know it).
 */
function levelTable(levels, who) {
  // Named `priorities`, not `levels`: pino.transport() passes its own `levels` (numbers) to targets.
  const own = Object.create(null)
  if (levels !== undefined) {
    if (levels === null || typeof levels !== 'object' || Array.isArray(levels)) throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: priorities must be an object of level name: priority (0..7 or a journald level name)`)
    for (const name of Object.keys(levels)) {
      const value = levels[name]
      const priority = typeof value === 'string' ? levelPriority(value) : value
      if (!Number.isInteger(priority) || priority < 0 || priority > 7) {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: priorities.${name} must be a priority 0..7 or a journald level name (${Object.keys(PRIORITIES).join(', ')})`)
      }
      own[name] = priority
    }
  }
  return (name) => own[name] ?? levelPriority(name)
}

/**
 * A journal field name for a record key: camelCase and kebab-case split into words, a character
 * outside ASCII `U<hex code point>`, every other one outside `A-Z0-9_` a `_`, upper case, no leading
 * `_`, a leading digit prefixed with `F`, at most 64 characters. `''` when nothing is left.
 */
function fieldName(key) {
  let name = String(key)
    .replace(/[^\p{ASCII}]/gu, (c) => `_U${c.codePointAt(0).toString(16)}_`)
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
 * The fields of one record being built: name -> value, or an array of values for a repeated
 * field; `count` is the number of values (what journald counts); `nameless` the values whose key
 * left no name, by key.
 */
class Out {
  constructor() {
    this.fields = Object.create(null)
    this.count = 0
    this.nameless = undefined
  }

  /** Adds one value (or several, `many`) under `name`: a second key of the same name repeats it. */
  put(name, value, many = false) {
    const values = many ? value : [value]
    if (values.length === 0) return
    const had = this.fields[name]
    if (had === undefined) this.fields[name] = many ? values.slice() : value
    else this.fields[name] = (Array.isArray(had) ? had : [had]).concat(values)
    this.count += values.length
  }

  keepNameless(key, value) {
    ;(this.nameless ??= Object.create(null))[key] = value
  }
}

/**
 * Adds `value` under `name` to `out`: nested objects flattened with `_` up to MAX_DEPTH, arrays
 * of scalars as a repeated field, anything else as JSON text.
 */
function addValue(out, name, value, depth, key = name) {
  if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') return
  if (!name) return out.keepNameless(String(key), value)
  if (RESERVED.has(name)) name = `X_${name}`
  if (value instanceof Error) return addError(out, name, value, depth)
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      out.put(
        name,
        value.filter((v) => v !== null && v !== undefined).map(text),
        true,
      )
    } else {
      out.put(name, text(value))
    }
    return
  }
  if (typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    if (depth >= MAX_DEPTH) return out.put(name, text(value))
    for (const k of Object.keys(value)) addValue(out, joinName(name, fieldName(k)), value[k], depth + 1, `${key}.${k}`)
    return
  }
  out.put(name, value instanceof Uint8Array ? value : value instanceof Date ? value.toISOString() : text(value))
}

function joinName(prefix, name) {
  return name ? `${prefix}_${name}`.slice(0, 64).replace(/_+$/, '') : ''
}

/**
 * An error (an Error, or pino's serialized `{ type, message, stack }`) under `name`: `NAME` is its
 * message, `NAME_TYPE`, `NAME_STACK`, `NAME_CODE`, and its other own fields flattened.
 */
function addError(out, name, err, depth = 0) {
  if (RESERVED.has(name)) name = `X_${name}`
  // An error among its own fields (`e.self = e`, two errors naming each other) ends here as text.
  if (depth >= MAX_DEPTH) return out.put(name, errorText(err))
  if (err.message !== undefined) out.put(name, String(err.message))
  const type = err.type ?? (err instanceof Error ? err.name : undefined)
  if (type !== undefined) out.put(`${name}_TYPE`, String(type))
  if (typeof err.stack === 'string') out.put(`${name}_STACK`, err.stack)
  for (const key of Object.keys(err)) {
    if (key === 'message' || key === 'type' || key === 'stack') continue
    addValue(out, joinName(name, fieldName(key)), err[key], depth + 1, key)
  }
}

/** An error as one line of text (`TypeError: message`), whatever its toString does. */
function errorText(err) {
  try {
    return String(err)
  } catch {
    return String(err.message)
  }
}

/**
 * Moves what does not fit into FIELDS_JSON: the fields past `budget` values (the last ones of the
 * record), and the nameless values. Returns the journal fields.
 */
function fold(out, budget) {
  const fields = out.fields
  const folded = out.nameless ?? Object.create(null)
  let any = out.nameless !== undefined
  if (out.count > budget) {
    let count = 0
    for (const name of Object.keys(fields)) {
      const value = fields[name]
      const n = Array.isArray(value) ? value.length : 1
      if (count + n <= budget) {
        count += n
        continue
      }
      folded[name] = value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value
      delete fields[name]
      any = true
    }
  }
  if (any) fields[FOLDED] = JSON.stringify(folded)
  return fields
}

/**
 * The journal fields of one record. `record` holds the logger's fields; `skip` names the keys
 * handled elsewhere (message, level, ...); `keep`, when given, is the only keys kept; `extra` the
 * fields the caller adds besides MESSAGE, PRIORITY and SYSLOG_IDENTIFIER (an Error message's
 * own fields), counted against MAX_FIELDS; `errorKey` a logger's own name for its error key.
 */
function recordFields(record, { skip, keep, prefix = '', extra = 0, errorKey }) {
  const out = new Out()
  const head = prefix ? fieldName(prefix) : ''
  for (const key of Object.keys(record)) {
    if (skip.has(key) || (keep && !keep.has(key))) continue
    const value = record[key]
    const name = head ? joinName(head, fieldName(key)) : fieldName(key)
    // pino's and winston's conventional error keys keep their stack.
    if ((key === 'err' || key === 'error' || key === errorKey) && value && typeof value === 'object' && name) addError(out, name, value)
    else addValue(out, name, value, 0, key)
  }
  return fold(out, MAX_FIELDS - ADDED_FIELDS - extra)
}

/**
 * Why `journal` just refused an entry, for the transports' events: `EAGAIN` when its queue was
 * full (journald did not keep up: stats().dropped grew since `seen.dropped`), `ENOENT` when there
 * is no journal to send to. `seen` keeps the count between calls.
 */
function dropError(journal, seen, who, cause) {
  const stats = journal.stats()
  const full = stats.dropped > seen.dropped
  seen.dropped = stats.dropped
  // A refusal the journal threw (a value it cannot encode) is passed on as it is.
  const err = cause instanceof Error ? cause : codedError(full ? 'EAGAIN' : 'ENOENT', `${who}: a log entry was not written to the journal: ${full ? `journald did not keep up (${stats.dropped} entries dropped so far)` : `no journal to send to${stats.lastError ? ` (${stats.lastError})` : ''}`}`)
  err.stats = stats
  return err
}

/** Checks the options both transports share; returns them normalised. */
function transportOptions(options, who) {
  if (options === null || typeof options !== 'object') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: options must be an object`)
  const { identifier, socket, fields, exclude, prefix = '', priorities } = options
  for (const [name, list] of [['fields', fields], ['exclude', exclude]]) {
    if (list !== undefined && (!Array.isArray(list) || !list.every((k) => typeof k === 'string'))) {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: ${name} must be an array of field names`)
    }
  }
  if (typeof prefix !== 'string') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', `${who}: prefix must be a string`)
  return { identifier, socket, keep: fields ? new Set(fields) : undefined, exclude, prefix, priorityOf: levelTable(priorities, who) }
}

module.exports = { fieldName, recordFields, transportOptions, dropError, levelPriority, levelTable, RESERVED, FOLDED, LEVEL_ALIASES }
