'use strict'
// The sd-notify-rs command (issue 23 item 9, issue 26 items 2 and 8): strict argument parsing,
// --help, a pid that does not exist; the doctor's reading of a unit in ExecStartPre=; and what
// error messages echo of their input (issue 23 item 10).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs, MAX_TIMEOUT_MS } = require('../lib/cli')
const { echo } = require('../lib/errors')
const { diagnose, diagnoseUnit, unitFromCgroup, parseShow } = require('../lib/doctor')
const { sd } = require('./helpers')

const BIN = path.join(__dirname, '..', 'bin', 'sd-notify-rs.js')
const run = (...args) => cp.spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' })

test('reload takes a pid of decimal digits only: 0x10, 1e3, " 7 ", -1, 0, 1.5 are usage errors (exit 2)', () => {
  for (const pid of ['0x10', '1e3', ' 7 ', '-1', '0', '1.5', '+7', '', '99999999999', '７']) {
    const r = run('reload', pid)
    assert.equal(r.status, 2, `${JSON.stringify(pid)}: ${r.stderr}`)
    assert.match(r.stderr, /the pid must be a positive decimal number/)
  }
})

test('--timeout is bounded: 1 to 2^31-1 ms, decimal digits; else a usage error (exit 2)', () => {
  for (const timeout of ['3000000000', '0', '1e3', '-5', 'soon', '2147483648']) {
    const r = run('reload', '1', '--timeout', timeout)
    assert.equal(r.status, 2, `${timeout}: ${r.stderr}`)
    assert.match(r.stderr, /--timeout must be a whole number of milliseconds from 1 to 2147483647/)
  }
  assert.deepEqual(parseArgs(['reload', '7', '--timeout', String(MAX_TIMEOUT_MS)]), { command: 'reload', pid: 7, timeoutMs: MAX_TIMEOUT_MS })
  assert.deepEqual(parseArgs(['reload', '--timeout=250', '7']), { command: 'reload', pid: 7, timeoutMs: 250 })
  assert.deepEqual(parseArgs(['reload', '7']), { command: 'reload', pid: 7, timeoutMs: 90_000 })
  assert.ok(parseArgs(['reload', '7', '8']).error)
  assert.ok(parseArgs(['reload', '7', '--timeout', '5', '--timeout', '6']).error)
  assert.ok(parseArgs(['reload', '7', '--timeout']).error)
  assert.ok(parseArgs(['reload']).error)
  assert.ok(parseArgs(['doctor', 'x']).error)
})

test('a pid that does not exist is reported as not existing (ESRCH), exit 1', () => {
  // pid_max is at most 2^22: this one cannot exist.
  const r = run('reload', String(2 ** 22 + 1))
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /pid 4194305 does not exist/)
  assert.doesNotMatch(r.stderr, /onReload/)
})

test('--help and -h print the usage listing reload and doctor, exit 0; the bin documents both', () => {
  for (const flag of ['--help', '-h']) {
    const r = run(flag)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /sd-notify-rs reload <pid> \[--timeout <ms>\]/)
    assert.match(r.stdout, /sd-notify-rs doctor/)
  }
  const none = run()
  assert.equal(none.status, 2)
  assert.match(none.stderr, /usage:/)
  const header = fs.readFileSync(BIN, 'utf8').split('\n\n')[0]
  assert.match(header, /sd-notify-rs reload <pid>/)
  assert.match(header, /sd-notify-rs doctor/)
})

test('parseArgs() never throws and accepts only what it should (a bounded random sweep; fuzz/js/cli_args.js goes further)', () => {
  const { run: fuzz } = require('../fuzz/js/cli_args')
  const { execs, finding } = fuzz({ iterations: 20_000, seed: 1 })
  assert.equal(finding, null)
  assert.equal(execs, 20_000)
})

test('echo(): what a message quotes of its input is cut to 100 characters with the length', () => {
  assert.equal(echo('abc'), '"abc"')
  const long = echo('k'.repeat(50 << 20))
  assert.ok(long.length < 150, long.length)
  assert.match(long, /… \(52428800 characters\)$/)
  assert.equal(echo(Object.create(null)), '"[object Object]"')
})

test('a native error does not echo a 50 MB key whole (the message stays short)', () => {
  const key = 'k'.repeat(50 << 20)
  let err
  try {
    sd.notify({ [key]: '1' })
  } catch (e) {
    err = e
  }
  assert.equal(err?.code, 'ERR_SD_NOTIFY_INVALID_KEY')
  assert.ok(err.message.length < 400, `${err.message.length} characters`)
})

test('doctor: the unit is found in /proc/self/cgroup (v2 and v1 layouts), systemctl show is parsed', () => {
  assert.equal(unitFromCgroup('0::/system.slice/app.service\n'), 'app.service')
  assert.equal(unitFromCgroup('12:pids:/x\n1:name=systemd:/system.slice/web@1.service\n0::/\n'), 'web@1.service')
  assert.equal(unitFromCgroup('0::/system.slice/app.service/control\n'), 'app.service')
  assert.equal(unitFromCgroup('0::/user.slice/session-1.scope\n'), null)
  assert.deepEqual(parseShow('Type=notify\nExecStart={ path=/usr/bin/node ; argv[]=/usr/bin/node a=b ; }\n'), { Type: 'notify', ExecStart: '{ path=/usr/bin/node ; argv[]=/usr/bin/node a=b ; }' })
})

test("doctor in ExecStartPre= (INVOCATION_ID, no NOTIFY_SOCKET, SubState=start-pre) diagnoses the unit's settings", () => {
  const good = { Id: 'app.service', SubState: 'start-pre', Type: 'notify', NotifyAccess: 'main', WatchdogUSec: '5s', ExecStart: '{ path=/usr/bin/node ; argv[]=/usr/bin/node /srv/app.js ; }', ExecReload: '', RestrictAddressFamilies: '' }
  const probe = (props) => ({ cgroup: () => '0::/system.slice/app.service\n', show: (unit) => (unit === 'app.service' ? props : null) })
  const env = { INVOCATION_ID: 'abc' }
  const findings = diagnose(sd, sd, env, probe(good))
  assert.deepEqual(
    findings.filter(([level]) => level === 'warn'),
    [],
  )
  assert.match(findings[0][2], /ExecStartPre= of app\.service/)
  assert.ok(findings.some(([level, topic, text]) => level === 'ok' && topic === 'watchdog' && /WatchdogSec=5s/.test(text)))
  const bad = { ...good, Type: 'simple', ExecStart: '{ path=/usr/bin/npm ; argv[]=/usr/bin/npm start ; }', RestrictAddressFamilies: 'AF_INET' }
  const warned = diagnose(sd, sd, env, probe(bad)).filter(([level]) => level === 'warn').map(([, topic]) => topic)
  assert.deepEqual(warned, ['notify', 'NotifyAccess', 'sandbox'])
  // The main process (NOTIFY_SOCKET set) and a unit not in start-pre are diagnosed from the environment.
  assert.doesNotMatch(diagnose(sd, sd, { ...env, NOTIFY_SOCKET: '' }, probe({ ...good, SubState: 'running' }))[0][2], /running in ExecStartPre=/)
  const out = []
  diagnoseUnit({ Type: 'notify', NotifyAccess: 'none' }, (...f) => out.push(f))
  assert.ok(out.some(([level, topic]) => level === 'warn' && topic === 'NotifyAccess'))
})
