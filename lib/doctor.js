'use strict'
// `sd-notify-rs doctor`: what this environment offers a service, and what to change. Run it in
// the unit's environment (ExecStartPre=, or `systemd-run -p ... --pty npx sd-notify-rs doctor`).
// Each finding is [level, topic, text]; level 'ok', 'warn' or 'info'. Only reads, except one
// harmless datagram (X_SD_NOTIFY_RS_DOCTOR=1, a private key systemd ignores) to prove the socket.

//
// In ExecStartPre= systemd sets neither NOTIFY_SOCKET nor WATCHDOG_USEC (only the main process
// gets them): there the doctor reads the unit's own settings with `systemctl show` and diagnoses
// those instead (Type=, NotifyAccess=, WatchdogSec=, what ExecStart= runs, ...).

const fs = require('node:fs')
const path = require('node:path')
const cp = require('node:child_process')

/** The unit's properties the pre-start diagnosis reads. */
const UNIT_PROPERTIES = ['Id', 'SubState', 'Type', 'NotifyAccess', 'WatchdogUSec', 'ExecStart', 'ExecReload', 'RestrictAddressFamilies']

/** The unit this process runs in, from /proc/self/cgroup's text (the v2 line, else systemd's v1 one); null if none. */
function unitFromCgroup(text) {
  const lines = String(text).split('\n')
  for (const line of [...lines.filter((l) => l.startsWith('0::')), ...lines.filter((l) => /^\d+:name=systemd:/.test(l))]) {
    const segments = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).split('/')
    for (let i = segments.length - 1; i >= 0; i--) if (/^[A-Za-z0-9:_.\\@-]+\.service$/.test(segments[i])) return segments[i]
  }
  return null
}

/** `systemctl show` output (KEY=value lines) as an object. */
function parseShow(text) {
  const out = {}
  for (const line of String(text).split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

/** The unit's properties, or null when systemctl cannot say (no systemctl, no access to the manager). */
function showUnit(unit) {
  try {
    const text = cp.execFileSync('systemctl', ['show', unit, '-p', UNIT_PROPERTIES.join(',')], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
    return parseShow(text)
  } catch {
    return null
  }
}

/** The unit's properties when this process is one of its ExecStartPre= commands, else null. */
function preStartUnit(env, { cgroup = () => fs.readFileSync('/proc/self/cgroup', 'utf8'), show = showUnit } = {}) {
  // The main process of a Type=notify unit has NOTIFY_SOCKET; a pre-start command never has.
  if (!env.INVOCATION_ID || env.NOTIFY_SOCKET) return null
  let unit
  try {
    unit = unitFromCgroup(cgroup())
  } catch {
    return null
  }
  const props = unit && show(unit)
  return props && props.SubState === 'start-pre' ? props : null
}

const NODES = new Set(['node', 'nodejs', 'bun', 'deno'])
const WRAPPERS = new Set(['npm', 'npx', 'yarn', 'pnpm', 'sh', 'bash', 'dash', 'env'])

/** Findings about a unit's settings (`systemctl show` properties), for the doctor in ExecStartPre=. */
function diagnoseUnit(props, add) {
  const unit = props.Id || 'the unit'
  add('info', 'unit', `running in ExecStartPre= of ${unit}, where systemd passes neither NOTIFY_SOCKET nor WATCHDOG_USEC: diagnosing the unit's settings (systemctl show)`)
  const type = props.Type || ''
  if (type === 'notify' || type === 'notify-reload') add('ok', 'notify', `Type=${type}: systemd waits for ready() before the unit counts as started`)
  else add('warn', 'notify', `Type=${type || '(unknown)'}: systemd does not wait for ready() and ignores what the service sends about its start; use Type=notify (or Type=notify-reload on systemd >= 253)`)
  const access = props.NotifyAccess || ''
  const start = /path=([^ ;]+)/.exec(props.ExecStart || '')
  const program = start ? path.basename(start[1]) : ''
  if (access === 'none') add('warn', 'NotifyAccess', 'NotifyAccess=none: systemd ignores every notification; use NotifyAccess=main (node as the main process) or all')
  else if (access === 'main' && WRAPPERS.has(program)) {
    add('warn', 'NotifyAccess', `NotifyAccess=main, but ExecStart= runs ${program}, not node: systemd ignores a child's notifications. Start node itself (ExecStart=/usr/bin/node /srv/app/server.js), use exec in a shell, or set NotifyAccess=all`)
  } else if (access === 'main' && !NODES.has(program)) {
    add('info', 'NotifyAccess', `NotifyAccess=main and ExecStart= runs ${program || '(unknown)'}: only that process may notify; make sure it is node itself (or execs it)`)
  } else add('ok', 'NotifyAccess', `NotifyAccess=${access || '(unknown)'}, ExecStart= runs ${program || '(unknown)'}`)
  const watchdog = props.WatchdogUSec || '0'
  if (watchdog !== '0' && watchdog !== 'infinity') add('ok', 'watchdog', `WatchdogSec=${watchdog}: call startWatchdog() after start-up, or systemd restarts the service`)
  else add('info', 'watchdog', 'no watchdog asked for (WatchdogSec= unset)')
  const families = props.RestrictAddressFamilies || ''
  if (families && (families.startsWith('~') ? families.includes('AF_UNIX') : !families.includes('AF_UNIX'))) {
    add('warn', 'sandbox', `RestrictAddressFamilies=${families} forbids AF_UNIX: no notification or journal entry can be sent; allow AF_UNIX`)
  }
  if (/sd-notify-rs/.test(props.ExecReload || '')) add('ok', 'reload', 'ExecReload= runs sd-notify-rs reload: systemctl reload waits for the onReload() handlers')
}

/**
 * `sd`: the package; `native`: its binding (unwrapped, so the doctor's own first send warns of
 * nothing). `probe` (tests): how the pre-start case reads /proc/self/cgroup and the unit.
 */
function diagnose(sd, native, env = process.env, probe = {}) {
  const out = []
  const add = (level, topic, text) => out.push([level, topic, text])

  const preStart = preStartUnit(env, probe)
  if (preStart) {
    diagnoseUnit(preStart, add)
    journalFindings(sd, env, add)
    return out
  }

  // The notify socket.
  if (!env.NOTIFY_SOCKET) {
    const why = env.INVOCATION_ID
      ? "NOTIFY_SOCKET is not set in this unit: its Type= is not notify, or this is ExecStartPre= and `systemctl show` could not read the unit's settings here (run the doctor as root there, or as ExecStartPre=- so that a warning never stops the start)"
      : 'NOTIFY_SOCKET is not set: not under a Type=notify service manager, so ready() and friends send nothing (fine on a laptop; under systemd use Type=notify or Type=notify-reload)'
    add('warn', 'notify', why)
  } else {
    try {
      native.notify({ X_SD_NOTIFY_RS_DOCTOR: 1 })
      add('ok', 'notify', `NOTIFY_SOCKET=${env.NOTIFY_SOCKET} takes datagrams`)
    } catch (err) {
      add('warn', 'notify', `NOTIFY_SOCKET=${env.NOTIFY_SOCKET} refused a datagram: ${err.code}: ${err.message}`)
    }
  }
  // Who may notify.
  const execPid = Number(env.SYSTEMD_EXEC_PID)
  if (Number.isInteger(execPid) && execPid > 0) {
    add(
      'info',
      'NotifyAccess',
      `systemd started pid ${execPid} (SYSTEMD_EXEC_PID). Under the default NotifyAccess=main only that process may notify: start node itself (ExecStart=/usr/bin/node ...) or with exec in a shell, or set NotifyAccess=all for cluster workers and wrappers.`,
    )
  } else if (env.NOTIFY_SOCKET) {
    add('info', 'NotifyAccess', 'SYSTEMD_EXEC_PID is not set (systemd < 248): make sure node is the main process (ExecStart=/usr/bin/node ...), not npm or a shell without exec')
  }
  // The watchdog (read from the environment: in ExecStartPre= or a child, WATCHDOG_PID names the main process).
  const usec = Number(env.WATCHDOG_USEC)
  if (env.WATCHDOG_USEC && Number.isSafeInteger(usec) && usec > 0) {
    const whose = env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid ? ` from pid ${env.WATCHDOG_PID}, the main process,` : ''
    add('ok', 'watchdog', `WatchdogSec= asks for a ping within ${usec / 1000} ms${whose}: call startWatchdog() after start-up, or systemd restarts the service`)
  } else if (env.WATCHDOG_USEC) {
    add('warn', 'watchdog', `WATCHDOG_USEC=${env.WATCHDOG_USEC} is not a number of microseconds`)
  } else {
    add('info', 'watchdog', 'no watchdog asked for (WatchdogSec= unset)')
  }
  // Passed descriptors.
  if (env.LISTEN_FDS) {
    const names = (env.LISTEN_FDNAMES || '').split(':').filter(Boolean)
    const forUs = Number(env.LISTEN_PID) === process.pid
    add('info', 'listen-fds', `LISTEN_FDS=${env.LISTEN_FDS} (${names.join(', ') || 'unnamed'}) for pid ${env.LISTEN_PID}${forUs ? '' : ` (not this process, ${process.pid}: the service itself gets its own)`}`)
  } else {
    add('info', 'listen-fds', 'no descriptors passed (no socket activation, nothing in the fd store)')
  }
  journalFindings(sd, env, add)
  add('info', 'unit', env.INVOCATION_ID ? `running as a systemd unit (INVOCATION_ID=${env.INVOCATION_ID})` : 'not started by systemd (no INVOCATION_ID)')
  return out
}

function journalFindings(sd, env, add) {
  const journald = fs.existsSync('/run/systemd/journal/socket')
  add(journald ? 'ok' : 'info', 'journal', journald ? '/run/systemd/journal/socket exists: journal.* writes structured entries' : 'no journald socket: journal.* returns false')
  add('info', 'journal', sd.journal.streamConnected(2) ? 'stderr is connected to the journal (JOURNAL_STREAM matches fd 2)' : env.JOURNAL_STREAM ? 'JOURNAL_STREAM is set but stderr is not that stream (redirected, or inherited)' : 'stderr is not connected to the journal')
}

function print(findings, write = (s) => process.stdout.write(s)) {
  for (const [level, topic, text] of findings) write(`${level === 'ok' ? 'ok  ' : level === 'warn' ? 'WARN' : 'info'}  ${topic.padEnd(12)} ${text}\n`)
}

module.exports = { diagnose, diagnoseUnit, unitFromCgroup, parseShow, print }
