'use strict'
// A pino transport writing to the journal, built on pino-abstract-transport:
// `pino.transport({ target: 'sd-notify-rs/pino' })` runs it in a worker thread (pino sends it the
// logger's messageKey, errorKey and levels); `pino(require('sd-notify-rs/pino')())` uses it
// in-process, where `log.flush(cb)` and `stream.flushSync()` deliver what was logged. Each record
// becomes one entry (see integrations/fields.js for names); an entry the journal could not take
// is a 'drop' event (record, journal stats) on the stream, forwarded from the worker.

const { readFileSync } = require('node:fs')
const { basename } = require('node:path')
const { isMainThread, parentPort, workerData } = require('node:worker_threads')
const build = require('pino-abstract-transport')
const { Journal } = require('..')
const { recordFields, transportOptions, levelPriority, dropError } = require('./fields')

/** What journald records itself (_PID, _HOSTNAME, the timestamp), left out unless asked for. */
const DEFAULT_EXCLUDE = ['time', 'pid', 'hostname', 'v']

/** How long closing the stream (or `flush(cb)`) waits for a slow journald. */
const FLUSH_MS = 5000

/** A level pino does not name for us (no label known), by pino's standard numbers. */
function priorityOfNumber(level) {
  if (typeof level !== 'number') return 6
  if (level >= 60) return 2
  if (level >= 50) return 3
  if (level >= 40) return 4
  if (level >= 30) return 6
  return 7
}

/** pino's level (a number, or a label when formatters.level says so) as a syslog priority. */
function priorityOf(level) {
  if (typeof level === 'string') return levelPriority(level) ?? 6
  return priorityOfNumber(level)
}

/**
 * The name `journalctl -t` should show for a transport in pino's worker thread, where
 * process.argv is the worker's: the process title a program set, else the main script's name
 * from the process's own command line (node, its options, the script).
 */
function mainIdentifier() {
  const title = process.title
  if (title && !/^(node|nodejs|bun|deno)$/.test(basename(title)) && !title.includes('/')) return title
  try {
    const script = scriptOf(readFileSync('/proc/self/cmdline', 'utf8').split('\0'))
    if (script && !script.startsWith('-')) return basename(script).replace(/\.(c|m)?(j|t)s$/, '')
  } catch {}
  return undefined
}

/** The script in a process's command line: Node's follows its execArgv; Deno's is `deno [run] [flags] script`. */
function scriptOf(args) {
  // A worker inherits the main thread's execArgv: what follows them is the script.
  if (!process.versions.deno) return args[1 + process.execArgv.length]
  // Deno's execArgv is empty; a flag's value may be its own argument (--config deno.json), so the
  // script is the first argument after the subcommand (run, test, ...) named like one.
  const script = /\.(c|m)?(j|t)sx?$/
  return script.test(args[1]) ? args[1] : args.slice(2).find((a) => !a.startsWith('-') && script.test(a))
}

/** How long a worker under Deno waits for pino's configuration before it goes on with pino's defaults. */
const CONFIG_MS = 1000

/**
 * pino's configuration, posted to its worker: under Deno, a message that reaches a worker before
 * it listens is dropped (Node queues it), and pino posts it at once, so pino-abstract-transport's
 * wait for it (expectPinoConfig) could last forever. Here it is bounded: undefined when it is lost.
 */
function pinoConfig() {
  return new Promise((resolve) => {
    const done = (config) => {
      clearTimeout(timer)
      parentPort.off('message', onMessage)
      resolve(config)
    }
    const onMessage = (message) => {
      if (message && message.code === 'PINO_CONFIG') done(message.config)
    }
    const timer = setTimeout(done, CONFIG_MS)
    parentPort.on('message', onMessage)
  })
}

/**
 * The in-process streams' drains, run first thing at process exit: what pino wrote and the line
 * splitter still holds reaches the journal, whose own exit step then sends it. Weak: a stream
 * nobody uses any more is not kept.
 */
const drains = new Set()
const collected = new FinalizationRegistry((ref) => drains.delete(ref))
let exitHooked = false
function drainAtExit(drain) {
  const ref = new WeakRef(drain)
  drains.add(ref)
  collected.register(drain, ref)
  if (!exitHooked) {
    exitHooked = true
    // Prepended: before the journal's own exit listener, which sends what is queued.
    process.prependListener('exit', () => {
      for (const ref of drains) {
        try {
          ref.deref()?.()
        } catch {}
      }
    })
  }
  return () => drains.delete(ref)
}

/**
 * @param {import('./pino').PinoJournalOptions} [options]
 * @returns {import('node:stream').Duplex | Promise<import('node:stream').Duplex>} a stream for pino
 *   (a promise of it in pino's worker, which first waits for the logger's configuration)
 */
function pinoJournal(options = {}) {
  const opts = transportOptions(options, 'sd-notify-rs/pino')
  // pino-abstract-transport refuses expectPinoConfig outside a worker pino started.
  const inPinoWorker = !isMainThread && workerData?.workerData?.pinoWillSendConfig === true
  const identifier = opts.identifier ?? (isMainThread ? undefined : mainIdentifier())
  const journal = new Journal({ socket: opts.socket, identifier })

  let stream
  let messageKey = options.messageKey ?? 'msg'
  let errorKey = 'err'
  let labels // pino's level numbers -> names, from its configuration (worker) or the logger (in-process)
  let skip
  let forget // takes the stream off the exit drains once it closed

  const seen = { dropped: 0 }
  const drop = (record, cause) => {
    const err = dropError(journal, seen, 'sd-notify-rs/pino', cause)
    if (stream.listenerCount('drop') > 0) stream.emit('drop', record, err)
    // In pino's worker, the main thread's stream emits it (thread-stream's EVENT message); an
    // Error does not cross threads with its code, so its parts do.
    if (inPinoWorker && parentPort) parentPort.postMessage({ code: 'EVENT', name: 'drop', args: [record, { code: err.code, message: err.message, stats: err.stats }] })
  }

  const entry = (record) => {
    const level = record.level
    const label = typeof level === 'string' ? level : (labels ?? stream.lastLogger?.levels?.labels)?.[level]
    const priority = (label === undefined ? undefined : opts.priorityOf(label)) ?? priorityOfNumber(level)
    let message = record[messageKey]
    let fields
    try {
      fields = recordFields(record, { skip, keep: opts.keep, prefix: opts.prefix, errorKey })
      if (message === undefined && fields.ERR !== undefined) message = Array.isArray(fields.ERR) ? fields.ERR[0] : fields.ERR
      if (!journal.print(priority, message === undefined ? '' : typeof message === 'string' ? message : String(message), fields)) drop(record)
    } catch (err) {
      drop(record, err) // a log call never throws on the logger's side
    }
  }

  // Everything pino wrote so far, to the journal now: read synchronously from the line splitter.
  const drain = () => {
    let record
    while ((record = stream.read()) !== null) entry(record)
  }

  let config // pino's configuration when it came on its own (Deno), not on the source
  const transport = (source) => {
    stream = source
    if (inPinoWorker) {
      const from = config ?? source
      messageKey = options.messageKey ?? from.messageKey ?? messageKey
      errorKey = from.errorKey ?? errorKey
      labels = from.levels?.labels
    }
    skip = new Set([messageKey, 'level', ...(opts.exclude ?? DEFAULT_EXCLUDE)])
    source.on('readable', drain)
    // A line that is not JSON (a pino option wrote plain text): kept as it came.
    source.on('unknown', (line) => {
      try {
        if (line && !journal.print(6, String(line))) drop({ line })
      } catch (err) {
        drop({ line }, err)
      }
    })
    source.flush = (cb = () => {}) => {
      drain()
      journal.flush(FLUSH_MS).then(
        () => cb(),
        (err) => cb(err),
      )
    }
    source.flushSync = drain
    if (!inPinoWorker) forget = drainAtExit(drain)
  }

  const close = (err, cb) => {
    forget?.()
    try {
      if (stream) drain()
    } catch {}
    // Entries queued for a slow journald go out before the worker (or the stream) ends.
    journal.flush(FLUSH_MS).then(
      () => cb(err),
      () => cb(err),
    )
  }

  if (inPinoWorker && process.versions.deno) {
    return pinoConfig().then((received) => {
      config = received ?? {}
      return build(transport, { close })
    })
  }
  return build(transport, { expectPinoConfig: inPinoWorker, close })
}

module.exports = pinoJournal
module.exports.default = pinoJournal
module.exports.pinoJournal = pinoJournal
module.exports.priorityOf = priorityOf
