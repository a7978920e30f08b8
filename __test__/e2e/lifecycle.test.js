'use strict'

// The service lifecycle under a real systemd 252 (no Type=notify-reload): `systemctl reload`
// through `ExecReload=sd-notify-rs reload $MAINPID` waits for onReload()'s handler and reports its
// failure; plain SIGHUP reloads too; a stop drains in-flight requests past TimeoutStopSec=.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { abstractSocketsWork } = require('../../lib/reload')
const { useSystemd, NODE, REPO_ROOT } = require('./harness')

const e2e = useSystemd()
const BIN = path.join(REPO_ROOT, 'bin', 'sd-notify-rs.js')

// `sd-notify-rs reload` needs Node.js >= 20.8 (lib/reload.js): asked of the node the services run.
const serviceNode = execFileSync(NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
const channel = { skip: !abstractSocketsWork({ node: serviceNode }) && `the services' Node.js ${serviceNode} has no reload channel (abstract socket names need 20.8)` }

async function reloadService(sd, t, name, args) {
  const unit = sd.unitName(name, t)
  await sd.installUnit(
    unit,
    `[Service]\nType=notify\nExecStart=${NODE} ${sd.service('reload-service.js')} ${args.join(' ')}\nExecReload=${NODE} ${BIN} reload $MAINPID\n`,
  )
  const r = await sd.systemctl('start', `${unit}.service`)
  assert.equal(r.code, 0, r.stderr)
  return unit
}

test('systemctl reload with ExecReload=sd-notify-rs reload $MAINPID returns after the handler; the status from before the reload stays', channel, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = await reloadService(sd, t, 'reload-ok', [1000])
  const r = await sd.systemctl('reload', `${unit}.service`)
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.ms >= 1000, `systemctl reload returned after ${r.ms} ms, before the 1000 ms handler finished`)
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText'])
  // The service said "serving" before; the reload does not overwrite it (issue 26 item 7).
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'serving' })
  const report = await sd.waitForReport(unit, (e) => e.event === 'reloaded')
  assert.equal(report.reloads, 1)
})

test('a failing handler makes systemctl reload fail, while the unit stays active with the error in StatusText', channel, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = await reloadService(sd, t, 'reload-fail', [100, 'fail'])
  assert.equal((await sd.systemctl('reload', `${unit}.service`)).code, 0, 'the first reload succeeds')
  const r = await sd.systemctl('reload', `${unit}.service`)
  assert.notEqual(r.code, 0, 'the second reload fails, and systemctl says so')
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText', 'StatusErrno'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'reload failed: config.json: no such file', StatusErrno: '2' })
  assert.match(await sd.journalText(unit), /the reload of pid \d+ failed: config\.json: no such file/)
})

test('plain SIGHUP reloads too: RELOADING=1, the handler, READY=1', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = await reloadService(sd, t, 'reload-sighup', [0])
  await sd.systemctl('kill', '-s', 'SIGHUP', `${unit}.service`)
  const report = await sd.waitForReport(unit, (e) => e.event === 'reloaded')
  assert.equal(report.reloads, 1)
  const state = await sd.waitFor(unit, (s) => s.StatusText === 'serving', 5000, ['ActiveState', 'StatusText'])
  assert.equal(state.ActiveState, 'active')
})

test('a drain longer than TimeoutStopSec= ends cleanly (Result=success) because it extended the timeout', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('drain', t)
  const port = 18181
  const r = await sd.runService(unit, { Type: 'notify', TimeoutStopSec: 1 }, 'drain-service.js', [port, 3000])
  assert.equal(r.code, 0, r.stderr)
  // A client inside the namespace with a request in flight while the stop begins.
  const client = sd.exec(NODE, ['-e', `require('node:http').get('http://127.0.0.1:${port}/slow', (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log(res.statusCode, b.trim())) })`])
  await sd.waitForReport(unit, (e) => e.event === 'in-flight')
  const stop = await sd.systemctl('stop', `${unit}.service`)
  assert.equal(stop.code, 0, stop.stderr)
  assert.ok(stop.ms >= 2000, `the stop waited for the in-flight request (${stop.ms} ms)`)
  const answered = await client
  assert.equal(answered.stdout.trim(), '200 slow done', 'the in-flight request finished')
  const entries = await sd.journal(unit)
  const ended = entries.find((e) => e.MESSAGE_ID === '7ad2d189f7e94e70a38c781354912448')
  assert.ok(ended, `the unit ended with success, not a timeout kill:\n${await sd.journalText(unit)}`)
  const report = await sd.waitForReport(unit, (e) => e.event === 'drained')
  assert.equal(report.code, 0)
})

const SQUATTER = path.join(REPO_ROOT, '__test__', 'fixtures', 'squatter.js')

test('a squatter of another uid on the reload channel: the service warns, systemctl reload fails naming it, the unit stays active', channel, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('reload-squatted', t)
  await sd.installUnit(unit, `[Service]\nType=notify\nExecStart=${NODE} ${sd.service('reload-late.js')}\nExecReload=${NODE} ${BIN} reload $MAINPID\n`)
  assert.equal((await sd.systemctl('start', `${unit}.service`)).code, 0)
  const { MainPID } = await sd.show(unit, ['MainPID'])
  // nobody binds the service's channel name before the service does.
  const squatter = sd.unitName('squatter', t)
  const r = await sd.run(squatter, { Type: 'exec' }, ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', NODE, SQUATTER, MainPID])
  assert.equal(r.code, 0, r.stderr)
  await sd.waitForJournal(squatter, /listening/)
  await sd.systemctl('kill', '-s', 'SIGUSR1', `${unit}.service`)
  await sd.waitForJournal(unit, /SD_NOTIFY_RS_RELOAD_CHANNEL/)
  const reload = await sd.systemctl('reload', `${unit}.service`)
  assert.notEqual(reload.code, 0, 'systemctl reload believed the squatter')
  const text = await sd.journalText(unit)
  assert.match(text, /the reload channel of pid \d+ is held by another process, pid \d+ \(uid 65534\): not trusting it/)
  assert.doesNotMatch(text, /"event":"reloaded"/, 'nothing reloaded')
  assert.equal((await sd.show(unit, ['ActiveState'])).ActiveState, 'active')
})

test('a notify socket that fails: systemctl reload still runs the handler and succeeds, the service stays up and warns', channel, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = await reloadService(sd, t, 'reload-broken', [0, 'break-socket'])
  const r = await sd.systemctl('reload', `${unit}.service`)
  assert.equal(r.code, 0, r.stderr)
  await sd.waitForReport(unit, (e) => e.event === 'reloaded')
  const text = await sd.journalText(unit)
  assert.match(text, /SD_NOTIFY_RS_RELOAD_NOTIFY_FAILED/)
  assert.match(text, /warning: pid \d+: the reload ran, but the service manager did not get RELOADING=1 \(ENOENT/)
  assert.equal((await sd.show(unit, ['ActiveState'])).ActiveState, 'active')
})

test('a drain whose notifications all fail goes on: the in-flight request finishes and the service exits 0', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('drain-broken', t)
  const port = 18182
  const r = await sd.runService(unit, { Type: 'notify' }, 'drain-service.js', [port, 1500, 'break-socket'])
  assert.equal(r.code, 0, r.stderr)
  const client = sd.exec(NODE, ['-e', `require('node:http').get('http://127.0.0.1:${port}/slow', (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log(res.statusCode, b.trim())) }).on('error', (e) => console.log('error', e.code))`])
  await sd.waitForReport(unit, (e) => e.event === 'in-flight')
  const stop = await sd.systemctl('stop', `${unit}.service`)
  assert.equal(stop.code, 0, stop.stderr)
  assert.equal((await client).stdout.trim(), '200 slow done', 'the in-flight request finished')
  const report = await sd.waitForReport(unit, (e) => e.event === 'drained')
  assert.equal(report.code, 0)
  assert.match(await sd.journalText(unit), /SD_NOTIFY_RS_DRAIN_NOTIFY_FAILED/)
})
