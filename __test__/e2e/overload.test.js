'use strict'

// Overload under a real systemd: the manager's notification queue full under a burst from many
// units (the manager is frozen with SIGSTOP so that the queue surely fills), and the watchdog of
// services held to 10% of a CPU. This file boots its own systemd: freezing it disturbs no other
// file's tests.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd, sleep } = require('./harness')
const { hostPidOf, cpuQuotaGroup } = require('../../testbed/proc')

const e2e = useSystemd()

const UNITS = 4
const BURST = 3000
// The documented bound: a send waits at most 5 s for room in the manager's queue, then fails
// with EAGAIN. The slack covers a loaded 2-core machine; a stall "beyond it" would be far more.
const SEND_TIMEOUT_MS = 5000
const SLACK_MS = 1500

/** Starts `n` burst services; resolves with their unit names and namespace main pids. */
async function startBursters(sd, t, tag) {
  const units = []
  for (let i = 0; i < UNITS; i++) {
    const unit = sd.unitName(`overload-${tag}-${i}`, t)
    const r = await sd.runService(unit, { Type: 'notify' }, 'notify-burst.js', [BURST])
    assert.equal(r.code, 0, r.stderr)
    units.push({ unit, pid: (await sd.show(unit, ['MainPID'])).MainPID })
  }
  return units
}

/** Freezes the manager for `ms` while every burster bursts; resolves with their reports. */
async function burstWhileFrozen(sd, units, ms) {
  process.kill(sd.pid, 'SIGSTOP')
  try {
    // Signalled directly: systemctl kill would need the frozen manager.
    for (const { pid } of units) await sd.exec('kill', ['-USR1', String(pid)])
    await sleep(ms)
  } finally {
    process.kill(sd.pid, 'SIGCONT')
  }
  return Promise.all(units.map(({ unit }) => sd.waitForReport(unit, (e) => e.event === 'burst', 30_000)))
}

test('the manager queue full for 2 s under a burst from 4 units: every send waits and goes through, no crash', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  if (sd.mode !== 'namespace') return t.skip('needs a private manager to freeze (namespace mode)')
  const units = await startBursters(sd, t, 'short')
  const reports = await burstWhileFrozen(sd, units, 2000)
  for (const r of reports) {
    assert.deepEqual(r.errors, {}, JSON.stringify(r))
    assert.equal(r.sent, BURST)
    assert.equal(r.final, true)
  }
  // The queue was full: some send stood still until the manager came back...
  assert.ok(Math.max(...reports.map((r) => r.maxCallMs)) > 500, `a send waited for room: ${JSON.stringify(reports)}`)
  // ...and none stood still beyond the documented bound.
  for (const r of reports) assert.ok(r.maxCallMs < SEND_TIMEOUT_MS + SLACK_MS, JSON.stringify(r))
  // Nothing lost at the end: the manager shows each unit's last word and all are still up.
  for (const { unit } of units) {
    const s = await sd.waitFor(unit, (s) => s.StatusText === `done ${BURST}`, 15_000, ['StatusText', 'ActiveState'])
    assert.equal(s.ActiveState, 'active')
  }
})

test('the manager queue full for 7 s: sends fail with EAGAIN after the documented 5 s, never later, no crash', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  if (sd.mode !== 'namespace') return t.skip('needs a private manager to freeze (namespace mode)')
  const units = await startBursters(sd, t, 'long')
  const reports = await burstWhileFrozen(sd, units, 7000)
  const timedOut = reports.filter((r) => r.errors.EAGAIN)
  assert.ok(timedOut.length >= 1, `some sender gave up with EAGAIN: ${JSON.stringify(reports)}`)
  for (const r of reports) {
    assert.deepEqual(Object.keys(r.errors).filter((c) => c !== 'EAGAIN'), [], JSON.stringify(r))
    assert.ok(r.maxCallMs < SEND_TIMEOUT_MS + SLACK_MS, `no call stood still beyond 5 s: ${JSON.stringify(r)}`)
  }
  for (const r of timedOut) assert.ok(r.maxCallMs >= SEND_TIMEOUT_MS - 100, `EAGAIN only after waiting 5 s: ${r.maxCallMs} ms`)
  // Every service is still running and, once the manager is back, heard again.
  for (const { unit } of units) {
    const s = await sd.waitFor(unit, (s) => s.StatusText === `done ${BURST}`, 15_000, ['StatusText', 'ActiveState'])
    assert.equal(s.ActiveState, 'active')
  }
})

const TRIALS = 10

/**
 * Starts `TRIALS` services of `script` at once, each held to 10% of a CPU, and resolves with
 * [{ unit, group }]. The private manager accepts CPUQuota= but has no cgroup v2 cpu controller to
 * apply it with (this machine's cpu controller is on cgroup v1), so the quota is enforced through
 * a v1 cpu group of the same 10% that each service's process joins right after it is ready.
 */
async function underQuota(sd, t, tag, properties, script) {
  const trials = []
  t.after(async () => {
    if (trials.length) await sd.systemctl('stop', ...trials.map(({ unit }) => `${unit}.service`))
    for (const { group } of trials) assert.ok(await group.remove(), `${group.dir} removed`)
  })
  for (let i = 0; i < TRIALS; i++) {
    const unit = sd.unitName(`quota-${tag}-${i}`, t)
    const group = cpuQuotaGroup(`sd-e2e-${unit}`, 10)
    if (!group) return null
    trials.push({ unit, group })
    const r = await sd.runService(unit, { Type: 'notify', CPUQuota: '10%', ...properties }, script)
    assert.equal(r.code, 0, r.stderr)
    const hostPid = hostPidOf(sd.nsId, (await sd.show(unit, ['MainPID'])).MainPID)
    assert.ok(hostPid, `found ${unit}'s process`)
    group.add(hostPid)
  }
  return trials
}

test(`CPUQuota=10%, WatchdogSec=2: ${TRIALS} busy but healthy services are never killed by the watchdog`, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const trials = await underQuota(sd, t, 'healthy', { WatchdogSec: 2 }, 'busy-under-quota.js')
  if (!trials) return t.skip('no writable cgroup v1 cpu hierarchy to enforce the quota with')
  await sleep(10_000) // five watchdog timeouts
  for (const { unit, group } of trials) {
    const s = await sd.show(unit, ['ActiveState', 'Result', 'NRestarts'])
    assert.deepEqual([s.ActiveState, s.Result], ['active', 'success'], `${unit}: ${JSON.stringify(s)}`)
    // The quota really bit: the process spent most periods throttled.
    assert.ok(group.stat().nr_throttled > 20, `${unit} was throttled: ${JSON.stringify(group.stat())}`)
  }
  for (const { unit } of trials) await sd.systemctl('kill', '-s', 'SIGUSR2', `${unit}.service`)
  for (const { unit } of trials) {
    const r = await sd.waitForReport(unit, (e) => e.event === 'stats', 15_000)
    assert.ok(r.watchdog.pingsSent >= 8, `${unit} kept pinging: ${JSON.stringify(r.watchdog)}`)
    assert.equal(r.watchdog.sendErrors, 0)
  }
})

test(`CPUQuota=10%, WatchdogSec=2: ${TRIALS} hung services are each killed by the watchdog`, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const trials = await underQuota(sd, t, 'hung', { WatchdogSec: 2 }, 'watchdog-then-hang.js')
  if (!trials) return t.skip('no writable cgroup v1 cpu hierarchy to enforce the quota with')
  for (const { unit } of trials) await sd.systemctl('kill', '-s', 'SIGUSR1', `${unit}.service`)
  for (const { unit } of trials) {
    const s = await sd.waitFor(unit, (s) => s.Result === 'watchdog', 15_000, ['ActiveState', 'Result'])
    assert.notEqual(s.ActiveState, 'active', JSON.stringify(s))
  }
})
