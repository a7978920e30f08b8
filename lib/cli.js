'use strict'
// The argument parsing of bin/sd-notify-rs.js, pure so that it can be unit-tested and fuzzed
// (fuzz/js/cli_args.js): argv in, one plain object out, never a throw.

const { echo: show } = require('./errors')

const USAGE = `usage:
  sd-notify-rs reload <pid> [--timeout <ms>]
      ask service <pid> (which called onReload()) to reload; waits for its handlers and exits 0
      when they succeeded, 1 otherwise. For ExecReload=sd-notify-rs reload $MAINPID.
      --timeout: how long to wait, 1 to 2147483647 ms (default 90000).
  sd-notify-rs doctor
      what this environment (or, in ExecStartPre=, this unit) offers a service and what to change;
      exits 1 when something needs changing.
  sd-notify-rs --help | -h
      this text.`

/** The largest timer Node keeps as asked (2^31-1 ms): longer ones fire after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1
/** pid_t is a signed 32-bit integer; Linux's own ceiling (PID_MAX_LIMIT) is far below. */
const MAX_PID = 2 ** 31 - 1
const DEFAULT_TIMEOUT_MS = 90_000

/** A decimal number of 1..max written with digits only (no sign, space, exponent, 0x). */
function decimal(text, max) {
  if (typeof text !== 'string' || !/^[0-9]{1,10}$/.test(text)) return undefined
  const n = Number(text)
  return n >= 1 && n <= max ? n : undefined
}

/** What argv asks for: { command: 'help' | 'doctor' } or { command: 'reload', pid, timeoutMs }, or { error } (a usage error, exit 2). */
function parseArgs(argv) {
  if (!Array.isArray(argv)) return { error: 'no arguments' }
  const [command, ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') return rest.length === 0 ? { command: 'help' } : { error: `${command} takes no arguments` }
  if (command === 'doctor') return rest.length === 0 ? { command: 'doctor' } : { error: 'doctor takes no arguments' }
  if (command !== 'reload') return { error: command === undefined ? 'no command' : `unknown command ${show(command)}` }
  let pid
  let timeoutMs
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]
    if (arg === '--timeout' || (typeof arg === 'string' && arg.startsWith('--timeout='))) {
      if (timeoutMs !== undefined) return { error: '--timeout given twice' }
      const value = arg === '--timeout' ? rest[++i] : arg.slice('--timeout='.length)
      timeoutMs = decimal(value, MAX_TIMEOUT_MS)
      if (timeoutMs === undefined) return { error: `--timeout must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, not ${show(value)}` }
    } else if (pid === undefined) {
      pid = decimal(arg, MAX_PID)
      if (pid === undefined) return { error: `the pid must be a positive decimal number, not ${show(arg)}` }
    } else {
      return { error: `unexpected argument ${show(arg)}` }
    }
  }
  if (pid === undefined) return { error: 'reload needs the pid of the service (ExecReload=sd-notify-rs reload $MAINPID)' }
  return { command: 'reload', pid, timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS }
}

module.exports = { parseArgs, USAGE, MAX_TIMEOUT_MS, MAX_PID, DEFAULT_TIMEOUT_MS }
