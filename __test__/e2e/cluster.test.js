'use strict'

// Node's cluster under systemd's default NotifyAccess=main, with sd.clusterPrimary() in the
// primary (services/cluster-app.js): the unit is active only once the slowest worker listens,
// STATUS= counts workers, a dead worker's replacement counts again, and one hung worker gets the
// unit killed by the watchdog.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd, sleep } = require('./harness')

const e2e = useSystemd()

async function workerPids(sd, unit) {
  const r = await sd.systemctl('show', '-p', 'MainPID', '--value', `${unit}.service`)
  const main = Number(r.stdout.trim())
  const ps = await sd.exec('ps', ['-o', 'pid=', '--ppid', String(main)])
  return ps.stdout.split('\n').map((l) => Number(l.trim())).filter(Boolean)
}

test('a cluster of 3 is active only once the slowest worker listens; a re-forked worker is counted again', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('cluster', t)
  const r = await sd.runService(unit, { Type: 'notify' }, 'cluster-app.js', [3, 700])
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.ms >= 1400, `systemctl start returned after ${r.ms} ms, before the third worker listened at 1400 ms`)
  let state = await sd.show(unit, ['ActiveState', 'StatusText'])
  assert.deepEqual(state, { ActiveState: 'active', StatusText: '3 of 3 workers ready' })
  const before = await workerPids(sd, unit)
  await sd.exec('kill', ['-9', String(before[0])])
  await sd.waitForReport(unit, (e) => e.event === 'worker-exit')
  state = await sd.waitFor(unit, (s) => s.StatusText === '3 of 3 workers ready', 10_000, ['ActiveState', 'StatusText'])
  assert.equal(state.ActiveState, 'active')
  const after = await workerPids(sd, unit)
  assert.equal(after.length, 3)
  assert.ok(!after.includes(before[0]), 'the killed worker was replaced, and its replacement counted once ready')
  assert.doesNotMatch(await sd.journalText(unit), /SD_NOTIFY_RS_NOT_MAIN_PID/, 'managed workers do not warn')
})

test('with WatchdogSec=, one hung worker gets the cluster killed by the watchdog', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('cluster-hang', t)
  const r = await sd.runService(unit, { Type: 'notify', WatchdogSec: 2 }, 'cluster-app.js', [3, 0])
  assert.equal(r.code, 0, r.stderr)
  await sleep(2500)
  assert.equal((await sd.show(unit, ['ActiveState'])).ActiveState, 'active', 'healthy workers keep it alive past WatchdogSec=')
  const [victim] = await workerPids(sd, unit)
  await sd.exec('kill', ['-USR1', String(victim)])
  const state = await sd.waitFor(unit, (s) => s.Result === 'watchdog', 10_000, ['ActiveState', 'Result'])
  assert.equal(state.Result, 'watchdog')
})
