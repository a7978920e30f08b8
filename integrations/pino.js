'use strict'
// A pino transport writing to the journal: `pino.transport({ target: 'sd-notify-rs/pino' })` runs
// it in a worker thread; `pino(require('sd-notify-rs/pino')())` uses it in-process. pino hands it
// newline-delimited JSON; each record becomes one entry (see integrations/fields.js for names).

const { Writable } = require('node:stream')
const { Journal } = require('..')
const { recordFields, transportOptions } = require('./fields')

/** What journald records itself (_PID, _HOSTNAME, the timestamp), left out unless asked for. */
const DEFAULT_EXCLUDE = ['time', 'pid', 'hostname', 'v']

const LEVEL_NAMES = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 }

/** pino's level (a number, or a label when formatters.level says so) as a syslog priority. */
function priorityOf(level) {
  if (typeof level === 'string') return LEVEL_NAMES[level] ?? 6
  if (typeof level !== 'number') return 6
  if (level >= 60) return 2
  if (level >= 50) return 3
  if (level >= 40) return 4
  if (level >= 30) return 6
  return 7
}

/**
 * @param {{ identifier?: string | false, socket?: string, fields?: string[], exclude?: string[], prefix?: string, messageKey?: string }} [options]
 * @returns {Writable} a stream for pino: one journal entry per JSON line
 */
function pinoJournal(options = {}) {
  const opts = transportOptions(options, 'sd-notify-rs/pino')
  const messageKey = options.messageKey ?? 'msg'
  const journal = new Journal({ socket: opts.socket, identifier: opts.identifier })
  const skip = new Set([messageKey, 'level', ...(opts.exclude ?? DEFAULT_EXCLUDE)])
  let pending = ''

  const entry = (line) => {
    if (!line) return
    let record
    try {
      record = JSON.parse(line)
    } catch {
      journal.print(6, line) // not JSON (a pino option wrote plain text): kept as it came
      return
    }
    if (record === null || typeof record !== 'object') return journal.print(6, line)
    const priority = priorityOf(record.level)
    const fields = recordFields(record, { skip, keep: opts.keep, prefix: opts.prefix })
    let message = record[messageKey]
    if (message === undefined && fields.ERR !== undefined) message = fields.ERR
    journal.print(priority, message === undefined ? '' : String(message), fields)
  }

  return new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
      let nl
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        try {
          entry(line)
        } catch (err) {
          return callback(err)
        }
      }
      callback()
    },
    final(callback) {
      try {
        entry(pending)
      } catch (err) {
        return callback(err)
      }
      pending = ''
      // Entries queued for a slow journald go out before the worker (or the process) ends.
      journal.flush(5000).then(() => callback(), callback)
    },
  })
}

module.exports = pinoJournal
module.exports.default = pinoJournal
module.exports.pinoJournal = pinoJournal
module.exports.priorityOf = priorityOf
