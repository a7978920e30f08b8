'use strict'
// `sd-notify-rs doctor`: what this environment offers a service, and what to change. Run it in
// the unit's environment (ExecStartPre=, or `systemd-run -p ... --pty npx sd-notify-rs doctor`).
// Each finding is [level, topic, text]; level 'ok', 'warn' or 'info'. Only reads, except one
// harmless datagram (X_SD_NOTIFY_RS_DOCTOR=1, a private key systemd ignores) to prove the socket.

const fs = require('node:fs')

/** `sd`: the package; `native`: its binding (unwrapped, so the doctor's own first send warns of nothing). */
function diagnose(sd, native, env = process.env) {
  const out = []
  const add = (level, topic, text) => out.push([level, topic, text])

  // The notify socket.
  if (!env.NOTIFY_SOCKET) {
    add('warn', 'notify', 'NOTIFY_SOCKET is not set: not under a Type=notify service manager, so ready() and friends send nothing (fine on a laptop; under systemd use Type=notify or Type=notify-reload)')
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
  // The journal.
  const journald = fs.existsSync('/run/systemd/journal/socket')
  add(journald ? 'ok' : 'info', 'journal', journald ? '/run/systemd/journal/socket exists: journal.* writes structured entries' : 'no journald socket: journal.* returns false')
  add('info', 'journal', sd.journal.streamConnected(2) ? 'stderr is connected to the journal (JOURNAL_STREAM matches fd 2)' : env.JOURNAL_STREAM ? 'JOURNAL_STREAM is set but stderr is not that stream (redirected, or inherited)' : 'stderr is not connected to the journal')
  add('info', 'unit', env.INVOCATION_ID ? `running as a systemd unit (INVOCATION_ID=${env.INVOCATION_ID})` : 'not started by systemd (no INVOCATION_ID)')
  return out
}

function print(findings, write = (s) => process.stdout.write(s)) {
  for (const [level, topic, text] of findings) write(`${level === 'ok' ? 'ok  ' : level === 'warn' ? 'WARN' : 'info'}  ${topic.padEnd(12)} ${text}\n`)
}

module.exports = { diagnose, print }
