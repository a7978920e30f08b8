'use strict'
// A winston transport writing to the journal: `new JournaldTransport(options)`. The record's
// message becomes MESSAGE, its level PRIORITY, every other field a searchable journal field
// (see integrations/fields.js for names).

const TransportStream = require('winston-transport')
const { Journal } = require('..')
const { recordFields, transportOptions } = require('./fields')

/** winston's npm and syslog level names as syslog priorities. */
const PRIORITIES = {
  emerg: 0,
  alert: 1,
  crit: 2,
  error: 3,
  warning: 4,
  warn: 4,
  notice: 5,
  info: 6,
  http: 6,
  verbose: 7,
  debug: 7,
  silly: 7,
}

const LEVEL = Symbol.for('level')
const DEFAULT_EXCLUDE = ['timestamp']

class JournaldTransport extends TransportStream {
  /**
   * @param {{ identifier?: string | false, socket?: string, fields?: string[], exclude?: string[], prefix?: string, level?: string }} [options]
   */
  constructor(options = {}) {
    const opts = transportOptions(options, 'sd-notify-rs/winston')
    super(options)
    this.journal = new Journal({ socket: opts.socket, identifier: opts.identifier })
    this.skip = new Set(['level', 'message', ...(opts.exclude ?? DEFAULT_EXCLUDE)])
    this.keep = opts.keep
    this.prefix = opts.prefix
  }

  log(info, callback) {
    // The raw level: `info.level` may carry colour codes once format.colorize() ran.
    const level = info[LEVEL] ?? info.level
    const fields = recordFields(info, { skip: this.skip, keep: this.keep, prefix: this.prefix })
    let message = info.message
    if (message instanceof Error) message = message.message
    this.journal.print(PRIORITIES[level] ?? 6, message === undefined ? '' : String(message), fields)
    this.emit('logged', info)
    callback()
  }

  close() {
    this.journal.flush(5000).finally(() => this.emit('closed'))
  }
}

module.exports = JournaldTransport
module.exports.JournaldTransport = JournaldTransport
module.exports.PRIORITIES = PRIORITIES
