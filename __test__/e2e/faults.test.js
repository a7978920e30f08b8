'use strict'

// Faults under a real systemd: the manager re-executed and reloaded under a notifying service
// with a watchdog, journald stopped and started while a service logs, a service stopped and
// continued (SIGSTOP/SIGCONT), and callbacks that exit or throw. Each reads the outcome from the
// manager and the journal.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { randomUUID } = require('node:crypto')
const { useSystemd, sleep } = require('./harness')

const e2e = useSystemd()

/** The service's latest `counts`/`journal-stats` report, after asking for one with SIGUSR2. */
async function askReport(sd, unit, event) {
  const before = (await sd.reports(unit)).filter((e) => e.event === event).length
  await sd.systemctl('kill', '-s', 'SIGUSR2', `${unit}.service`)
  const deadline = Date.now() + 10_000
  for (;;) {
    const all = (await sd.reports(unit)).filter((e) => e.event === event)
    if (all.length > before) return all[all.length - 1]
    if (Date.now() > deadline) throw new Error(`${unit} did not report ${event}:\n${await sd.journalText(unit)}`)
    await sleep(50)
  }
}

const tick = (state) => Number(/^tick (\d+)$/.exec(state.StatusText)?.[1] ?? NaN)

for (const verb of ['daemon-reexec', 'daemon-reload']) {
  test(`systemctl ${verb} under a notifying service with a watchdog: no send fails afterwards and the watchdog does not fire`, async (t) => {
    const sd = e2e.orSkip(t)
    if (!sd) return
    const unit = sd.unitName(verb.replace('daemon-', 'faults-'), t)
    const r = await sd.runService(unit, { Type: 'notify', WatchdogSec: 2, Restart: 'on-failure' }, 'notify-under-faults.js')
    assert.equal(r.code, 0, r.stderr)
    await sleep(300)
    const before = tick(await sd.show(unit, ['StatusText']))
    const v = await sd.systemctl(verb)
    assert.equal(v.code, 0, v.stderr)
    // Longer than WatchdogSec: a watchdog that stopped being heard would fire in here.
    await sleep(3000)
    const state = await sd.show(unit, ['ActiveState', 'SubState', 'Result', 'NRestarts', 'StatusText'])
    assert.deepEqual([state.ActiveState, state.Result, state.NRestarts], ['active', 'success', '0'], JSON.stringify(state))
    assert.ok(tick(state) > before + 20, `STATUS= kept arriving after ${verb}: tick ${before} -> ${state.StatusText}`)
    const counts = await askReport(sd, unit, 'counts')
    assert.equal(counts.failures, 0, `sends failed: ${counts.lastError}`)
    // WatchdogSec=2 pings every second: at least three in the 3.3 s since the start.
    assert.ok(counts.watchdog.pingsSent >= 3, `pings kept going: ${JSON.stringify(counts.watchdog)}`)
    assert.equal(counts.watchdog.sendErrors, 0)
  })
}

test('SIGSTOP for a second, then SIGCONT: the service stays up and its watchdog resumes', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('faults-sigstop', t)
  const r = await sd.runService(unit, { Type: 'notify', WatchdogSec: 3, Restart: 'on-failure' }, 'notify-under-faults.js')
  assert.equal(r.code, 0, r.stderr)
  await sleep(300)
  await sd.systemctl('kill', '-s', 'SIGSTOP', `${unit}.service`)
  await sleep(1000)
  await sd.systemctl('kill', '-s', 'SIGCONT', `${unit}.service`)
  const continued = Date.now()
  await sleep(3500)
  const state = await sd.show(unit, ['ActiveState', 'Result', 'NRestarts'])
  assert.deepEqual([state.ActiveState, state.Result, state.NRestarts], ['active', 'success', '0'])
  const counts = await askReport(sd, unit, 'counts')
  assert.equal(counts.failures, 0)
  // WatchdogSec=3 pings every 1.5 s: at least two in the 4.8 s, the last after SIGCONT.
  assert.ok(counts.watchdog.pingsSent >= 2, JSON.stringify(counts.watchdog))
  assert.ok(counts.watchdog.lastPingAt > continued, `pings resumed after SIGCONT: ${JSON.stringify(counts.watchdog)}`)
})

test('journald stopped and started while a service logs: no crash, nothing dropped, entries after the restart arrive', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('faults-journald', t)
  const run = randomUUID().replace(/-/g, '')
  const r = await sd.runService(unit, { Type: 'notify' }, 'journal-under-faults.js', [run])
  assert.equal(r.code, 0, r.stderr)
  await sleep(300)
  const stop = await sd.systemctl('stop', 'systemd-journald.service')
  assert.equal(stop.code, 0, stop.stderr)
  await sleep(1000) // ~200 entries logged while nobody reads the journal's socket
  const start = await sd.systemctl('start', 'systemd-journald.service')
  assert.equal(start.code, 0, start.stderr)
  await sleep(1500)
  const stats = await askReport(sd, unit, 'journal-stats')
  assert.equal(stats.threw, 0)
  assert.equal(stats.stats.dropped, 0, JSON.stringify(stats.stats))
  assert.equal(stats.stats.failed, 0, JSON.stringify(stats.stats))
  assert.equal((await sd.show(unit, ['ActiveState'])).ActiveState, 'active')
  // Every entry up to the report reached the new journald, in order.
  const deadline = Date.now() + 10_000
  let seqs
  for (;;) {
    const q = await sd.exec('journalctl', ['--no-pager', '-q', '-o', 'json', '--output-fields=X_SEQ', `X_RUN=${run}`])
    seqs = q.stdout.split('\n').filter(Boolean).map((l) => Number(JSON.parse(l).X_SEQ))
    if (seqs.length >= stats.seq - 1 || Date.now() > deadline) break
    await sleep(200)
  }
  const expected = Array.from({ length: seqs.length }, (_, i) => i)
  assert.ok(seqs.length >= stats.seq - 1, `${seqs.length} of ${stats.seq} entries reached the journal`)
  assert.deepEqual([...seqs].sort((a, b) => a - b), expected, 'no gap: nothing lost while journald was down')
})

for (const [mode, expected] of [
  ['exit-in-health-check', { Result: 'success', ExecMainStatus: '0' }],
  ['throw-in-on-error', { Result: 'exit-code', ExecMainStatus: '1' }],
]) {
  test(`${mode}: the process ends the way Node ends it, never by a crash`, async (t) => {
    const sd = e2e.orSkip(t)
    if (!sd) return
    const unit = sd.unitName(`faults-${mode}`, t)
    const r = await sd.runService(unit, { Type: 'notify', WatchdogSec: 2, RemainAfterExit: 'yes' }, 'callback-faults.js', [mode])
    assert.equal(r.code, 0, r.stderr)
    const state = await sd.waitFor(unit, (s) => s.SubState === 'exited' || s.ActiveState === 'failed', 10_000, [
      'ActiveState',
      'SubState',
      'Result',
      'ExecMainCode',
      'ExecMainStatus',
    ])
    // ExecMainCode 1 is CLD_EXITED: an exit, not a signal (a crash would be 2 or 3, with SIGSEGV/SIGABRT).
    assert.deepEqual({ Result: state.Result, ExecMainStatus: state.ExecMainStatus, ExecMainCode: state.ExecMainCode }, { ...expected, ExecMainCode: '1' }, await sd.journalText(unit))
  })
}
