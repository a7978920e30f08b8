'use strict'

// The addon against a real systemd: each test starts a service from ./services under a unit
// with the properties the scenario needs, and reads the outcome from the manager itself
// (`systemctl show`, the journal), never from the service's own opinion alone.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd, NODE, sleep } = require('./harness')

const e2e = useSystemd()

// Message ids systemd logs when a unit ends (sd-messages.h): success, and failure with UNIT_RESULT.
const UNIT_SUCCESS = '7ad2d189f7e94e70a38c781354912448'
const UNIT_FAILURE_RESULT = 'd9b373ed55a64feb8242e02dbe79a49c'

// How a unit ended, from the journal: a transient unit that ends cleanly is unloaded at once, so
// its Result= property is gone by the time it could be read.
async function unitEnding(sd, unit, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const entries = await sd.journal(unit)
    const end = entries.find((e) => e.MESSAGE_ID === UNIT_SUCCESS || e.MESSAGE_ID === UNIT_FAILURE_RESULT)
    if (end) return end.MESSAGE_ID === UNIT_SUCCESS ? 'success' : end.UNIT_RESULT
    if (Date.now() >= deadline) throw new Error(`${unit} did not end within ${timeoutMs} ms:\n${await sd.journalText(unit)}`)
    await sleep(50)
  }
}

test('systemctl start of a Type=notify service returns only once it calls ready()', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('ready', t)
  await sd.installUnit(
    unit,
    `[Service]\nType=notify\nExecStart=${NODE} ${sd.service('ready-after-delay.js')} 1000\n`,
  )
  const r = await sd.systemctl('start', `${unit}.service`)
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.ms >= 1000, `systemctl start returned after ${r.ms} ms, before the service's ready() at 1000 ms`)
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'ready after 1000 ms' })
  const ready = await sd.waitForReport(unit, (e) => e.event === 'ready')
  assert.equal(ready.sent, true)
})

test('a Type=notify service that never calls ready() fails with Result=timeout', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('never-ready', t)
  const r = await sd.runService(unit, { Type: 'notify', TimeoutStartSec: 2 }, 'never-ready.js')
  assert.notEqual(r.code, 0, 'start must fail')
  assert.ok(r.ms >= 1900, `start failed after ${r.ms} ms, before TimeoutStartSec=2`)
  const state = await sd.show(unit, ['ActiveState', 'Result', 'StatusText'])
  assert.deepEqual(state, { ActiveState: 'failed', Result: 'timeout', StatusText: 'starting, and never ready' })
  const report = await sd.waitForReport(unit, (e) => e.event === 'status')
  assert.equal(report.sent, true)
})

test('status() shows as StatusText and errno() as StatusErrno', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('status-errno', t)
  const text = 'serving 3 clients: ünïcode ✓'
  const r = await sd.runService(unit, { Type: 'notify' }, 'status-and-errno.js', [text, 42])
  assert.equal(r.code, 0, r.stderr)
  const state = await sd.waitFor(unit, (s) => s.StatusText === text && s.StatusErrno === '42', 5000)
  assert.equal(state.ActiveState, 'active')
  const report = await sd.waitForReport(unit, (e) => e.event === 'status-and-errno')
  assert.deepEqual(
    { readySent: report.readySent, statusSent: report.statusSent, errnoSent: report.errnoSent },
    { readySent: true, statusSent: true, errnoSent: true },
  )
})

test('stopping() on SIGTERM and a clean exit stop the unit with Result=success', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('stop', t)
  const r = await sd.runService(unit, { Type: 'notify' }, 'ready-after-delay.js', [0])
  assert.equal(r.code, 0, r.stderr)
  const stop = await sd.systemctl('stop', `${unit}.service`)
  assert.equal(stop.code, 0, stop.stderr)
  assert.equal(await unitEnding(sd, unit), 'success')
  const report = await sd.waitForReport(unit, (e) => e.event === 'stopping')
  assert.deepEqual({ sent: report.sent, processed: report.processed }, { sent: true, processed: true })
  const journal = await sd.journalText(unit)
  assert.doesNotMatch(journal, /Main process exited, code=(exited|killed|dumped), status=(?!0\/)/)
})

test('stopping() sent by the service itself moves the unit to deactivating, then Result=success', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('self-stop', t)
  const r = await sd.runService(unit, { Type: 'notify' }, 'ready-after-delay.js', [0])
  assert.equal(r.code, 0, r.stderr)
  const kill = await sd.systemctl('kill', '-s', 'SIGUSR2', `${unit}.service`)
  assert.equal(kill.code, 0, kill.stderr)
  // The service exits 500 ms after STOPPING=1; until then the manager treats it as stopping.
  const stopping = await sd.waitFor(unit, (s) => s.ActiveState !== 'active', 5000)
  assert.equal(stopping.ActiveState, 'deactivating', JSON.stringify(stopping))
  assert.equal(await unitEnding(sd, unit), 'success')
})

// Polls the unit until it is active with StatusText "generation N", collecting every ActiveState
// seen on the way. Started before the reload is triggered, so a blocking reload cannot hide them.
async function watchReload(sd, unit, generation, timeoutMs = 10_000) {
  const seen = new Set()
  const state = await sd.waitFor(
    unit,
    (s) => {
      seen.add(s.ActiveState)
      return s.ActiveState === 'active' && s.StatusText === `generation ${generation}`
    },
    timeoutMs,
  )
  return { seen, state }
}

test('reloading() then ready() takes the unit through reloading back to active (Type=notify + ExecReload)', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('reload', t)
  const props = { Type: 'notify', ExecReload: '/bin/kill -HUP $MAINPID' }
  const r = await sd.runService(unit, props, 'reload-on-sighup.js', [1500])
  assert.equal(r.code, 0, r.stderr)

  // Asked by the manager. Whether `systemctl reload` itself waits for ready() is a race here: only
  // when RELOADING=1 is processed before the exit of `kill` (that race is why Type=notify-reload
  // exists). Either way RELOADING=1 holds the unit in reloading until ready().
  let watch = watchReload(sd, unit, 1)
  const reload = await sd.systemctl('reload', `${unit}.service`)
  assert.equal(reload.code, 0, reload.stderr)
  let { seen, state } = await watch
  assert.ok(seen.has('reloading'), `never saw ActiveState=reloading, only ${[...seen]}`)
  assert.equal(state.SubState, 'running')

  // Decided by the service itself (a SIGHUP from elsewhere): RELOADING=1 alone makes it reloading.
  watch = watchReload(sd, unit, 2)
  const kill = await sd.systemctl('kill', '-s', 'SIGHUP', '--kill-who=main', `${unit}.service`)
  assert.equal(kill.code, 0, kill.stderr)
  ;({ seen, state } = await watch)
  assert.ok(seen.has('reloading'), `never saw ActiveState=reloading, only ${[...seen]}`)
  assert.equal(state.SubState, 'running')

  const reports = await sd.reports(unit)
  assert.deepEqual(
    reports.filter((e) => e.event === 'reloading').map((e) => [e.generation, e.sent]),
    [
      [1, true],
      [2, true],
    ],
  )
})

test('reloading() satisfies Type=notify-reload: systemctl reload waits for ready()', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  if (sd.version < 253) {
    t.skip(`Type=notify-reload needs systemd >= 253; this is systemd ${sd.version}`)
    return
  }
  const unit = sd.unitName('notify-reload', t)
  const r = await sd.runService(unit, { Type: 'notify-reload' }, 'reload-on-sighup.js', [1000])
  assert.equal(r.code, 0, r.stderr)
  const reload = await sd.systemctl('reload', `${unit}.service`)
  assert.equal(reload.code, 0, reload.stderr)
  assert.ok(reload.ms >= 1000, `systemctl reload returned after ${reload.ms} ms, before ready() at 1000 ms`)
  const state = await sd.show(unit, ['ActiveState', 'StatusText'])
  assert.deepEqual(state, { ActiveState: 'active', StatusText: 'generation 1' })
})

test('extendTimeout() lets a service take longer than TimeoutStartSec to become ready', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('extend', t)
  const r = await sd.runService(unit, { Type: 'notify', TimeoutStartSec: 1 }, 'extend-timeout.js', [2500, 1000, 500])
  assert.equal(r.code, 0, `start failed after ${r.ms} ms: ${r.stderr}\n${await sd.journalText(unit)}`)
  assert.ok(r.ms >= 2500, `start returned after ${r.ms} ms, before ready() at 2500 ms`)
  const state = await sd.show(unit, ['ActiveState', 'Result'])
  assert.deepEqual(state, { ActiveState: 'active', Result: 'success' })
})

test('barrier() resolves only after the manager processed every earlier status()', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('barrier', t)
  const r = await sd.runService(unit, { Type: 'notify' }, 'barrier-after-status-burst.js', [`${unit}.service`, 200])
  assert.equal(r.code, 0, r.stderr)
  const report = await sd.waitForReport(unit, (e) => e.event === 'barrier' || e.event === 'error')
  assert.equal(report.event, 'barrier', report.message)
  assert.equal(report.processed, true)
  assert.equal(report.expected, 'update 200 of 200')
  assert.equal(report.observed, report.expected, 'StatusText read right after the barrier')
  const state = await sd.show(unit, ['StatusText'])
  assert.equal(state.StatusText, 'update 200 of 200')
})

test('mainPid() hands the unit over to a child that keeps running', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('main-pid', t)
  const r = await sd.runService(unit, { Type: 'notify' }, 'hand-over-main-pid.js')
  assert.equal(r.code, 0, r.stderr)
  const report = await sd.waitForReport(unit, (e) => e.event === 'handed-over' || e.event === 'error')
  assert.equal(report.event, 'handed-over', report.message)
  assert.deepEqual(
    { readySent: report.readySent, mainPidSent: report.mainPidSent, processed: report.processed },
    { readySent: true, mainPidSent: true, processed: true },
  )
  // Wait for the original process to be gone, so the unit lives on the child alone.
  const deadline = Date.now() + 5000
  while ((await sd.exec('test', ['-e', `/proc/${report.pid}`])).code === 0) {
    assert.ok(Date.now() < deadline, `original main process ${report.pid} did not exit`)
    await sleep(50)
  }
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'MainPID'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', MainPID: String(report.child) })
})

test('NotifyAccess=main rejects ready() from a node started by a wrapper shell that does not exec', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('wrapped', t)
  const script = `${NODE} ${sd.service('ready-after-delay.js')} 0; true`
  const r = await sd.run(unit, { Type: 'notify', NotifyAccess: 'main', TimeoutStartSec: 2 }, ['/bin/sh', '-c', script])
  assert.notEqual(r.code, 0, 'start must fail')
  const state = await sd.show(unit, ['ActiveState', 'Result'])
  assert.deepEqual(state, { ActiveState: 'failed', Result: 'timeout' })
  const report = await sd.waitForReport(unit, (e) => e.event === 'ready')
  assert.equal(report.sent, true, 'the datagram was sent; the manager refused it')
  // systemd 257 drops it without a line in the journal (247 and 252 log this one).
  if (sd.version < 257) await sd.waitForJournal(unit, 'reception only permitted for main PID')
})

test('NotifyAccess=main accepts ready() from a node the wrapper shell execs', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('wrapped-exec', t)
  const script = `exec ${NODE} ${sd.service('ready-after-delay.js')} 0`
  const r = await sd.run(unit, { Type: 'notify', NotifyAccess: 'main', TimeoutStartSec: 5 }, ['/bin/sh', '-c', script])
  assert.equal(r.code, 0, r.stderr)
  const state = await sd.show(unit, ['ActiveState', 'SubState'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running' })
})
