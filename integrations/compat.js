'use strict'
// `require('sd-notify-rs/compat')`: the API of the `sd-notify` npm package (2.8), so that changing
// the module name is the whole migration. Same names, arguments and return values (`undefined`,
// and `watchdogInterval()`'s milliseconds), with these deliberate differences:
// - startWatchdogMode()'s timer is unref'd (it never keeps the process alive) and a second call
//   replaces the first (sd-notify leaked the first timer);
// - sendStatus(text) refuses a text holding \n, \r or NUL (sd-notify passed it through, so a
//   status could inject other assignments such as MAINPID=); sendState(raw) checks each line;
// - bad input throws a coded error instead of being sent (sd-notify sent it; systemd ignored it),
//   except a sendState() line that is no assignment at all: skipped with a one-time warning;
// - journal entries carry SYSLOG_IDENTIFIER = the script's name rather than `node`.
// Like sd-notify, a send that fails (no socket, a manager that refuses, a full queue) is ignored:
// no compat function throws for it, and the startWatchdogMode() timer never does.

const sd = require('..')
const { markWatchdogStarted } = require('../lib/diagnostics')
const { PRIORITIES } = require('../lib/priorities')

/** startWatchdogMode()'s interval when none (or none a timer can keep) is given, as sd-notify's. */
const DEFAULT_WATCHDOG_MS = 3000
/** Node clamps a longer timer to 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Bad input (ERR_SD_NOTIFY_INVALID_*): still thrown, as the header says; any other failure is the send's. */
const isBadInput = (err) => /^ERR_SD_NOTIFY_INVALID_/.test(err?.code)

/** Runs a send, ignoring its failure as sd-notify does. */
function send(fn, arg) {
  try {
    fn(arg)
  } catch (err) {
    if (isBadInput(err)) throw err
  }
}

/** The timer's ping: nothing it meets may end the process. */
function ping() {
  try {
    sd.watchdog()
  } catch {}
}

let watchdogTimer = null

function journalPrint(level, ...args) {
  // @types/sd-notify types journalPrint as `(args: string[])`: such a call logs the words at info.
  if (Array.isArray(level)) return journalSend(PRIORITIES.info, level.map(String).join(' '))
  // String() of each word, so that a symbol is written too rather than thrown on.
  journalSend(level, args.map(String).join(' '))
}

function journalSend(level, message) {
  try {
    sd.journal.print(level, message)
  } catch (err) {
    if (isBadInput(err)) throw err
  }
}

/** sd-notify's log methods: one per level name of lib/priorities.js, and two longer names of its own. */
const LONGER_NAMES = { emerg: 'emergency', crit: 'critical' }
const log = {}
const printAt = [] // one function per priority, whatever its names
for (const [name, level] of Object.entries(PRIORITIES)) {
  log[name] = printAt[level] ??= (...args) => journalPrint(level, ...args)
  if (Object.hasOwn(LONGER_NAMES, name)) log[LONGER_NAMES[name]] = log[name]
}

let warnedIgnored = false

/**
 * `KEY=value` lines as notify() fields; each assignment is checked by notify(), as sd-notify never
 * did. A line that is no assignment (sd-notify's own example sends one) is skipped with a warning,
 * once: systemd ignores such lines too.
 */
function stateFields(raw) {
  const fields = {}
  for (const line of String(raw).split('\n')) {
    if (line === '') continue
    const eq = line.indexOf('=')
    if (eq <= 0) {
      if (!warnedIgnored) {
        warnedIgnored = true
        process.emitWarning(`sendState(${JSON.stringify(line)}): not a KEY=value assignment, not sent (systemd ignores such lines); use sendStatus(text) for a status`, {
          code: 'SD_NOTIFY_RS_COMPAT_NOT_AN_ASSIGNMENT',
        })
      }
      continue
    }
    const key = line.slice(0, eq)
    if (!(key in fields)) fields[key] = line.slice(eq + 1) // the manager reads the first of a repeated key
  }
  return fields
}

module.exports = {
  /** READY=1. */
  ready() {
    send(sd.ready)
  },
  /** STOPPING=1. The pid argument is accepted and ignored: the message always speaks for this process. */
  stopping(pid) {
    void pid
    send(sd.stopping)
  },
  /** One WATCHDOG=1 ping. */
  watchdog() {
    send(sd.watchdog)
  },
  /** The watchdog timeout in milliseconds (WATCHDOG_USEC / 1000), or 0 when none was asked for. */
  watchdogInterval() {
    const info = sd.watchdogEnabled()
    return info ? Math.floor(info.timeoutMs) : 0
  },
  /** Pings every `interval` ms (default 3000) from a timer on the event loop, so a blocked loop stops the pings. */
  startWatchdogMode(interval) {
    // sd-notify's leniency: anything that is no positive number means the default; so does one
    // a timer cannot wait (Node would fire it every millisecond).
    const ms = typeof interval === 'symbol' ? NaN : Number(interval)
    if (watchdogTimer) clearInterval(watchdogTimer)
    watchdogTimer = setInterval(ping, ms > 0 && ms <= MAX_TIMER_MS ? ms : DEFAULT_WATCHDOG_MS)
    watchdogTimer.unref()
    markWatchdogStarted() // no "watchdog not started" warning for a service that started this one
  },
  stopWatchdogMode() {
    if (watchdogTimer) {
      clearInterval(watchdogTimer)
      watchdogTimer = null
    }
  },
  /** STATUS=text. */
  sendStatus(text) {
    send(sd.status, String(text))
  },
  /** Raw `KEY=value` lines, sent as one notification after each is checked. */
  sendState(raw) {
    const fields = stateFields(raw)
    if (Object.keys(fields).length) send(sd.notify, fields)
  },
  journalPrint,
  log,
}
