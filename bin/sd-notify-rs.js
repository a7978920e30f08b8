#!/usr/bin/env node
'use strict'
// The package's command:
//   sd-notify-rs reload <pid> [--timeout <ms>]
//       ask the service <pid> (which called onReload()) to reload, wait for its handlers, exit 0
//       when they succeeded and 1 with their error otherwise. For ExecReload=: `systemctl reload`
//       then waits for the reload and reports its outcome, on any systemd version. It talks only
//       to <pid> itself (the channel's SO_PEERCRED), never to a process squatting its channel.
//   sd-notify-rs doctor
//       what this environment offers a service and what to change; in ExecStartPre= (no
//       NOTIFY_SOCKET there) it reads the unit's settings with `systemctl show` instead. Exits 1
//       when it warns: use ExecStartPre=- for a check that never blocks the start.
//   sd-notify-rs --help | -h
// Exit codes: 0 done, 1 failed, 2 usage error.

const { parseArgs, USAGE } = require('../lib/cli')

// `sd-notify-rs doctor | head`: a reader that went away is not a crash.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
})

async function main(argv) {
  const args = parseArgs(argv)
  if (args.error) return fail(`sd-notify-rs: ${args.error}\n${USAGE}`, 2)
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (args.command === 'reload') {
    const { requestReload } = require('../lib/reload')
    const { pid, timeoutMs } = args
    let outcome
    try {
      outcome = await requestReload(pid, timeoutMs)
    } catch (err) {
      const why = err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? `pid ${pid} does not take reload requests (it has no onReload() handler)` : err.message
      return fail(`sd-notify-rs reload: ${why}`, 1)
    }
    if (outcome.warning) process.stderr.write(`sd-notify-rs reload: warning: pid ${pid}: ${outcome.warning}\n`)
    if (outcome.ok) return 0
    return fail(`sd-notify-rs reload: the reload of pid ${pid} failed: ${outcome.error}`, 1)
  }
  // doctor
  const { diagnose, print } = require('../lib/doctor')
  const native = process.platform === 'linux' ? require('../lib/loader').loadNative() : require('../lib/noop')
  const findings = diagnose(require('..'), native)
  print(findings)
  return findings.some(([level]) => level === 'warn') ? 1 : 0
}

function fail(message, code) {
  process.stderr.write(`${message}\n`)
  return code
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.exitCode = fail(`sd-notify-rs: ${err && err.message}`, 1)
  },
)
