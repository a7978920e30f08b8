#!/usr/bin/env node
'use strict'
// The package's command:
//   sd-notify-rs reload <pid>   ask the service <pid> (which called onReload()) to reload, wait
//                               for its handlers, exit 0 when they succeeded and 1 with their
//                               error otherwise. For ExecReload=: `systemctl reload` then waits
//                               for the reload and reports its outcome, on any systemd version.

const { requestReload } = require('../lib/reload')

const USAGE = 'usage: sd-notify-rs reload <pid> [--timeout <ms>] | sd-notify-rs doctor'

async function main(argv) {
  const [command, ...rest] = argv
  if (command === 'reload') {
    const pid = Number(rest[0])
    const t = rest.indexOf('--timeout')
    const timeoutMs = t >= 0 ? Number(rest[t + 1]) : 90_000
    if (!Number.isInteger(pid) || pid <= 0 || !(timeoutMs > 0)) return fail(USAGE, 2)
    let outcome
    try {
      outcome = await requestReload(pid, timeoutMs)
    } catch (err) {
      const why = err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? `pid ${pid} does not take reload requests (it has no onReload() handler)` : err.message
      return fail(`sd-notify-rs reload: ${why}`, 1)
    }
    if (outcome.ok) return 0
    return fail(`sd-notify-rs reload: the reload of pid ${pid} failed: ${outcome.error}`, 1)
  }
  if (command === 'doctor') {
    const { diagnose, print } = require('../lib/doctor')
    const native = process.platform === 'linux' ? require('../lib/loader').loadNative() : require('../lib/noop')
    const findings = diagnose(require('..'), native)
    print(findings)
    return findings.some(([level]) => level === 'warn') ? 1 : 0
  }
  return fail(USAGE, 2)
}

function fail(message, code) {
  process.stderr.write(`${message}\n`)
  return code
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
