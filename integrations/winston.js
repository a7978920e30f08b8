'use strict'
// A winston transport writing to the journal: `new JournaldTransport(options)`. The record's
// message becomes MESSAGE, its level PRIORITY, every other field a searchable journal field
// (see integrations/fields.js for names). `logger.end()` emits 'finish' once the journal took
// every entry; an entry it could not take is a 'warn' event (an Error with code EAGAIN or ENOENT
// and `stats`) on the transport, which the logger passes on.

const TransportStream = require('winston-transport')
const { Journal } = require('..')
const { PRIORITIES: JOURNAL_PRIORITIES } = require('../lib/journal')
const { recordFields, transportOptions, dropError, levelPriority, LEVEL_ALIASES } = require('./fields')

/** winston's npm and syslog level names (and pino's fatal, trace) as syslog priorities. */
const PRIORITIES = Object.freeze(Object.fromEntries([...Object.keys(JOURNAL_PRIORITIES), ...Object.keys(LEVEL_ALIASES)].map((name) => [name, levelPriority(name)])))

const LEVEL = Symbol.for('level')
const { propertyIsEnumerable } = Object.prototype
const DEFAULT_EXCLUDE = ['timestamp']

/** How long ending the transport waits for a slow journald. */
const FLUSH_MS = 5000

class JournaldTransport extends TransportStream {
  #seen = { dropped: 0 }
  #priorityOf

  /**
   * @param {import('./winston').JournaldTransportOptions} [options]
   */
  constructor(options = {}) {
    const opts = transportOptions(options, 'sd-notify-rs/winston')
    super(options)
    this.journal = new Journal({ socket: opts.socket, identifier: opts.identifier })
    this.skip = new Set(['level', 'message', ...(opts.exclude ?? DEFAULT_EXCLUDE)])
    this.keep = opts.keep
    this.prefix = opts.prefix
    this.#priorityOf = opts.priorityOf
  }

  log(info, callback) {
    // The raw level: `info.level` may carry colour codes once format.colorize() ran.
    const level = info[LEVEL] ?? info.level
    let message = info.message
    // logger.error(err) hands over the Error itself, whose stack is not enumerable; an Error as
    // the message keeps its stack too. STACK, the name format.errors({ stack: true }) gives it.
    const stack = typeof info.stack === 'string' && !propertyIsEnumerable.call(info, 'stack') ? info.stack : message instanceof Error ? message.stack : undefined
    if (message instanceof Error) message = message.message
    try {
      const fields = recordFields(info, { skip: this.skip, keep: this.keep, prefix: this.prefix, extra: stack === undefined ? 0 : 1 })
      if (stack !== undefined && fields.STACK === undefined) fields.STACK = stack
      if (!this.journal.print(this.#priorityOf(level) ?? 6, message === undefined ? '' : String(message), fields)) this.emit('warn', dropError(this.journal, this.#seen, 'sd-notify-rs/winston'))
    } catch (err) {
      this.emit('warn', dropError(this.journal, this.#seen, 'sd-notify-rs/winston', err))
    }
    this.emit('logged', info)
    callback()
  }

  /** `logger.end()`: 'finish' once the journal has sent every entry (or after FLUSH_MS). */
  _final(callback) {
    this.journal.flush(FLUSH_MS).then(
      () => callback(),
      () => callback(),
    )
  }

  close() {
    // Both ways: a rejection passed on by finally() would be unhandled (a crash on Node >= 15).
    const closed = () => this.emit('closed')
    this.journal.flush(FLUSH_MS).then(closed, closed)
  }
}

module.exports = JournaldTransport
module.exports.JournaldTransport = JournaldTransport
module.exports.PRIORITIES = PRIORITIES
