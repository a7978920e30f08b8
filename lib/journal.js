'use strict'
// The JavaScript half of the journal: the Journal class (send, print and the level methods, the
// identifier, the caller's location, streamConnected), over the native encoder, which checks the
// names, encodes the entry and sends it without blocking (see crates/sd-notify-protocol/src/journal/queue.rs).
// lib/journal-fields.js turns the caller's values into the encoder's text lines and pairs.

const { basename, join, sep } = require('node:path')
const { fstatSync } = require('node:fs')
const { codedError } = require('./errors')
const { Fields, addField, addError, NEEDS_BINARY, NEEDS_BINARY_ALL } = require('./journal-fields')
const { PRIORITIES } = require('./priorities')

/** `PRIORITY=n\n` for each priority, built once. */
const PRIORITY_LINES = Array.from({ length: 8 }, (_, p) => `PRIORITY=${p}\n`)

const hasOwn = Object.prototype.hasOwnProperty

/**
 * The most fields one entry may carry, repeated values counted one by one: the caller's fields
 * (for print(): PRIORITY, MESSAGE and ERROR_* included), not SYSLOG_IDENTIFIER and CODE_* that
 * the Journal adds (at most 4 more). journald (src/journal/journald-native.c, systemd 252)
 * drops, telling nobody, an entry of more than ENTRY_FIELD_COUNT_MAX + 1 = 1,025 fields (measured
 * here: 1,025 arrive, 1,026 vanish); its own trusted fields (_PID, _SYSTEMD_UNIT, ...: about 30,
 * 18 more OBJECT_* with OBJECT_PID) are not counted by that check, but this leaves room for a
 * journald that would count them against 1,024. A larger entry is refused with
 * ERR_SD_NOTIFY_MESSAGE_TOO_LONG and nothing sent; the transports fold the excess into one field.
 */
const MAX_FIELDS = 960

function tooManyFields(count) {
  return codedError(
    'ERR_SD_NOTIFY_MESSAGE_TOO_LONG',
    `a journal entry of ${count} fields: journald drops an entry of more than about 1,000, so at most ${MAX_FIELDS} are sent (nothing was sent)`,
  )
}

/** This package's own files: never reported as the caller's CODE_FILE. */
const OWN_FILES = [__dirname + sep, join(__dirname, '..', 'index.js'), join(__dirname, '..', 'index.mjs')]

/**
 * A name a person recognises in `journalctl -t`: the process title when the program set one,
 * else the main script's name without its extension (`server` for `node server.js`), else the
 * runtime's name. libsystemd would say `node` for every Node service.
 */
function defaultIdentifier() {
  const title = process.title
  if (title && !/^(node|nodejs|bun|deno)$/.test(basename(title)) && !title.includes(sep)) return title
  const main = process.argv[1]
  if (main) return basename(main).replace(/\.(c|m)?(j|t)s$/, '')
  return basename(process.argv0 || 'node')
}

/** The caller's location: the first stack frame outside this package. */
function callerLocation() {
  const saved = Error.prepareStackTrace
  const holder = {}
  try {
    Error.prepareStackTrace = (_, frames) => frames
    Error.captureStackTrace(holder, callerLocation)
    for (const frame of holder.stack) {
      const file = frame.getFileName()
      if (!file || file.startsWith('node:') || OWN_FILES.some((own) => file.startsWith(own))) continue
      return { file, line: frame.getLineNumber(), func: frame.getFunctionName() || undefined }
    }
  } finally {
    Error.prepareStackTrace = saved
  }
  return undefined
}

function toPriority(priority) {
  if (typeof priority === 'string' && Object.hasOwn(PRIORITIES, priority)) return PRIORITIES[priority]
  if (typeof priority === 'number') {
    if (Number.isInteger(priority) && priority >= 0 && priority <= 7) return priority
    throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', `invalid journal priority ${priority}: it must be an integer from 0 (emerg) to 7 (debug)`)
  }
  throw codedError(
    'ERR_SD_NOTIFY_INVALID_VALUE',
    `invalid journal priority ${typeof priority === 'bigint' ? `${priority}n` : String(JSON.stringify(priority) ?? typeof priority)}: use 0..7 or one of ${Object.keys(PRIORITIES).join(', ')}`,
  )
}

function bindJournal(native) {
  const nativeSend = native.journalSend
  /**
   * What the native send reports, by its return value (`undefined`: sent; the names come from
   * the binding, src/binding/journal.rs's Code). `split`: nothing was sent, because a name in the
   * text lines held `=` or a line break (the names found did not add up to the bytes of the names
   * put in): the entry is built again with every name checked, for the precise error.
   */
  const OUTCOMES = native.journalOutcomes ? native.journalOutcomes() : []

  class Journal {
    #socket
    #identifier
    #identifierLine
    #location

    /**
     * @param {{ socket?: string, identifier?: string | false, location?: boolean }} [options]
     */
    constructor(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'new Journal(options): options must be an object')
      }
      const { socket, identifier, location = false } = options
      if (socket !== undefined && (typeof socket !== 'string' || socket === '')) {
        throw codedError('ERR_SD_NOTIFY_INVALID_ADDRESS', 'new Journal(options): socket must be a path (/run/...) or @abstract name')
      }
      if (identifier !== undefined && identifier !== false && (typeof identifier !== 'string' || identifier === '' || NEEDS_BINARY.test(identifier))) {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'new Journal(options): identifier must be a non-empty string without control characters, or false')
      }
      if (typeof location !== 'boolean') {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'new Journal(options): location must be a boolean')
      }
      this.#socket = socket
      this.#identifier = identifier
      this.#location = location
    }

    /** The SYSLOG_IDENTIFIER this journal adds to each entry (`false`: none). */
    get identifier() {
      if (this.#identifier === undefined) this.#identifier = defaultIdentifier()
      return this.#identifier
    }

    /** Sends one entry; see index.d.ts. */
    send(fields) {
      if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'journal.send(fields): fields must be an object of FIELD: value')
      }
      const outcome = this.#send(fields, false)
      return (outcome === 'split' ? this.#send(fields, true) : outcome) === true
    }

    #send(fields, strict) {
      // The common case inline, in locals: plain strings and numbers (their names checked
      // natively). The first other value moves the entry into a Fields for the rest.
      let text = ''
      let names = 0
      let count = 0
      let out
      for (const key in fields) {
        if (!hasOwn.call(fields, key)) continue
        const value = fields[key]
        if (out === undefined && !strict && (typeof value === 'number' || (typeof value === 'string' && !NEEDS_BINARY.test(value)))) {
          text += key + '=' + value + '\n'
          names += key.length
          count++
        } else addField((out ??= new Fields(text, names, strict, count)), key, value)
      }
      if (out !== undefined) count = out.count
      if (count > MAX_FIELDS) throw tooManyFields(count)
      const own = fields.SYSLOG_IDENTIFIER == null && fields.CODE_FILE == null
      const socket = this.#socket
      const line = this.#identifierLine
      if (out === undefined && own && !this.#location && socket !== undefined && line !== undefined && nativeSend) {
        // What #deliver does, without a Fields, once its first call has set the socket and the
        // identifier's line: the path most entries take.
        const nameBytes = line ? names + 17 : names // 'SYSLOG_IDENTIFIER'
        const code = socket === null ? nativeSend(text + line, nameBytes) : nativeSend(text + line, nameBytes, socket)
        return code === undefined ? true : this.#outcome(code, false)
      }
      return this.#deliver(out ?? new Fields(text, names, strict, count), own)
    }

    /** Sends MESSAGE at `priority` (0..7 or a level name), with optional extra fields. */
    print(priority, message, fields) {
      const outcome = this.#print(priority, message, fields, false)
      return (outcome === 'split' ? this.#print(priority, message, fields, true) : outcome) === true
    }

    #print(priority, message, fields, strict) {
      const out = new Fields(PRIORITY_LINES[toPriority(priority)], 8, strict, 1) // 'PRIORITY'
      if (message instanceof Error) addError(out, 'MESSAGE', message)
      else if (typeof message === 'string') out.add('MESSAGE', message)
      else throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'journal.print(priority, message): message must be a string or an Error')
      if (fields !== undefined && fields !== null) {
        if (typeof fields !== 'object' || Array.isArray(fields)) {
          throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'journal.print(priority, message, fields): fields must be an object')
        }
        for (const key of Object.keys(fields)) addField(out, key, fields[key])
      }
      if (out.count > MAX_FIELDS) throw tooManyFields(out.count)
      return this.#deliver(out, fields == null || (fields.SYSLOG_IDENTIFIER == null && fields.CODE_FILE == null))
    }

    /** `own`: the caller gave neither SYSLOG_IDENTIFIER nor CODE_FILE (the common case, checked cheaply). */
    #deliver(out, own) {
      if (this.#identifierLine === undefined) {
        const identifier = this.identifier
        this.#identifierLine = identifier ? `SYSLOG_IDENTIFIER=${identifier.replace(NEEDS_BINARY_ALL, ' ')}\n` : ''
      }
      if (own || !out.has('SYSLOG_IDENTIFIER')) {
        out.text += this.#identifierLine
        if (this.#identifierLine) out.names += 17 // 'SYSLOG_IDENTIFIER'
      }
      if (this.#location && (own || !out.has('CODE_FILE'))) {
        const at = callerLocation()
        if (at) {
          out.add('CODE_FILE', at.file)
          out.add('CODE_LINE', String(at.line))
          if (at.func) out.add('CODE_FUNC', at.func)
        }
      }
      if (!nativeSend) return false
      // Read at the first send, not at require() time: tests point children at a stand-in.
      if (this.#socket === undefined) this.#socket = process.env.SD_NOTIFY_RS_JOURNAL_SOCKET || null
      // The socket and the binary fields only when there are any (see src/binding/journal.rs).
      const socket = this.#socket
      const code = socket === null && out.binary === undefined ? nativeSend(out.text, out.names) : nativeSend(out.text, out.names, socket, out.binary)
      return code === undefined ? true : this.#outcome(code, out.strict)
    }

    /** `true` when sent or queued, `false` for the other outcomes, 'split' to build again. */
    #outcome(code, strict) {
      const outcome = OUTCOMES[code]
      if (outcome === 'split') {
        // Checked here on the strict try, so the native side cannot find one again.
        if (strict) throw codedError('ERR_SD_NOTIFY_INVALID_KEY', 'invalid journal field name: a name holds = or a line break')
        return outcome
      }
      // Dropped (queue full), no journal, failed: counted in stats(), never thrown at a log call.
      return outcome === 'sent' || outcome === 'queued'
    }

    /**
     * Whether descriptor `fd` (default 2, stderr) is connected to the journal: `JOURNAL_STREAM`
     * names its device and inode. The variable is inherited through redirects and by children,
     * so it is compared with the descriptor itself.
     */
    streamConnected(fd = 2) {
      if (!Number.isInteger(fd) || fd < 0) throw codedError('ERR_SD_NOTIFY_INVALID_FD', `streamConnected(fd): ${typeof fd === 'bigint' ? `${fd}n` : String(fd)} is not a descriptor`)
      const match = /^(\d+):(\d+)$/.exec(process.env.JOURNAL_STREAM || '')
      if (!match) return false
      let st
      try {
        st = fstatSync(fd, { bigint: true })
      } catch {
        return false
      }
      return st.dev === BigInt(match[1]) && st.ino === BigInt(match[2])
    }

    /** The process-wide queue's counters (one queue serves every Journal). */
    stats() {
      if (!native.journalStats) return { sent: 0, queued: 0, queuedBytes: 0, dropped: 0, failed: 0, noJournal: 0, lastError: null }
      const [sent, queued, queuedBytes, dropped, failed, lastError, noJournal] = native.journalStats()
      return { sent, queued, queuedBytes, dropped, failed, noJournal, lastError: lastError ?? null }
    }

    /** Resolves `true` once nothing waits for journald, `false` after `timeoutMs` (default 5000). */
    flush(timeoutMs = 5000) {
      if (!native.journalFlush) return Promise.resolve(true)
      return native.journalFlush(timeoutMs)
    }

    /**
     * Bounds the process-wide queue of entries waiting for a slow journald (default 1,048,576
     * entries and 128 MiB, each entry counted with 128 bytes of bookkeeping; past them an entry is
     * dropped, counted in `stats().dropped`, and reported in the journal once delivery
     * recovers) and how long the exit may wait for journald (`exitTimeoutMs`, default 10,000).
     * Each is optional; returns the three as they are now.
     */
    static setQueueLimits(limits) {
      if (limits === null || typeof limits !== 'object') {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'Journal.setQueueLimits(limits): limits must be an object ({ entries, bytes, exitTimeoutMs })')
      }
      const entries = hasOwn.call(limits, 'entries') ? limits.entries : undefined
      const bytes = hasOwn.call(limits, 'bytes') ? limits.bytes : undefined
      const exitTimeoutMs = hasOwn.call(limits, 'exitTimeoutMs') ? limits.exitTimeoutMs : undefined
      for (const [name, v, max] of [['entries', entries, 0xffffffff], ['bytes', bytes, Number.MAX_SAFE_INTEGER], ['exitTimeoutMs', exitTimeoutMs, 0x7fffffff]]) {
        if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || v > max)) {
          throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', `Journal.setQueueLimits(): ${name} must be an integer from 0 to ${max}`)
        }
      }
      if (!native.journalSetLimits) return { entries: entries ?? 0, bytes: bytes ?? 0, exitTimeoutMs: exitTimeoutMs ?? 0 }
      const [e, b, t] = native.journalSetLimits(entries ?? null, bytes ?? null, exitTimeoutMs ?? null)
      return { entries: e, bytes: b, exitTimeoutMs: t }
    }
  }

  for (const [level, priority] of Object.entries(PRIORITIES)) {
    Object.defineProperty(Journal.prototype, level, {
      value: function (message, fields) {
        return this.print(priority, message, fields)
      },
      writable: true,
      configurable: true,
    })
  }

  /**
   * The journal's stand-in receiver: the notify listener's socket (SO_PASSCRED, descriptors),
   * read as journal entries. Outside Linux, constructing it throws like NotifyListener.
   */
  class JournalListener extends native.NotifyListener {
    receive(timeoutMs) {
      return this.receiveJournal(timeoutMs)
    }
  }

  return { Journal, journal: new Journal(), JournalListener }
}

module.exports = { bindJournal, PRIORITIES, MAX_FIELDS }
