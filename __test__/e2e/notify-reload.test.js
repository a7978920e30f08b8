'use strict'

// Type=notify-reload (systemd >= 253): `systemctl reload` sends the unit's ReloadSignal= (SIGHUP)
// and waits for RELOADING=1 with a MONOTONIC_USEC taken after the signal, then READY=1. Run on
// trixie's 257 by scripts/systemd-matrix.js; older managers refuse the type, which is checked too.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd } = require('./harness')

const e2e = useSystemd()
const NOTIFY_RELOAD = 253

/** The systemd, or null after a skip saying why: Type=notify-reload needs systemd >= 253. */
function notifyReloadSystemd(t) {
  const sd = e2e.orSkip(t)
  if (!sd) return null
  if (sd.version < NOTIFY_RELOAD) {
    t.skip(`Type=notify-reload needs systemd >= ${NOTIFY_RELOAD}; this is systemd ${sd.version} (run it on trixie: node scripts/systemd-matrix.js --suite trixie)`)
    return null
  }
  return sd
}

test('systemd < 253 refuses Type=notify-reload (where >= 253 it starts)', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('notify-reload-type', t)
  const r = await sd.runService(unit, { Type: 'notify-reload', TimeoutStartSec: 10 }, 'reload-service.js', [0])
  if (sd.version < NOTIFY_RELOAD) {
    assert.notEqual(r.code, 0, `systemd ${sd.version} took Type=notify-reload`)
    assert.match(r.stderr, /Type|notify-reload|Invalid argument/i)
  } else {
    assert.equal(r.code, 0, r.stderr)
  }
})

test('onReload(): systemctl reload signals the service and returns only after the handler; the status from before the reload stays', async (t) => {
  const sd = notifyReloadSystemd(t)
  if (!sd) return
  const unit = sd.unitName('notify-reload-onreload', t)
  const r = await sd.runService(unit, { Type: 'notify-reload', TimeoutStartSec: 20 }, 'reload-service.js', [1000])
  assert.equal(r.code, 0, r.stderr)
  const reload = await sd.systemctl('reload', `${unit}.service`)
  assert.equal(reload.code, 0, reload.stderr)
  assert.ok(reload.ms >= 1000, `systemctl reload returned after ${reload.ms} ms, before the 1000 ms handler ended`)
  assert.deepEqual(
    (await sd.reports(unit)).filter((e) => e.event === 'reloaded').map((e) => e.reloads),
    [1],
  )
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText', 'Type', 'ReloadSignal'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'serving', Type: 'notify-reload', ReloadSignal: '1' })
})

test('onReload(): a failing handler ends the reload (READY=1) and leaves the unit active with the error in StatusText', async (t) => {
  const sd = notifyReloadSystemd(t)
  if (!sd) return
  const unit = sd.unitName('notify-reload-fail', t)
  const r = await sd.runService(unit, { Type: 'notify-reload', TimeoutStartSec: 20 }, 'reload-service.js', [0, 'fail'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal((await sd.systemctl('reload', `${unit}.service`)).code, 0)
  await sd.systemctl('reload', `${unit}.service`)
  const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText', 'StatusErrno'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'reload failed: config.json: no such file', StatusErrno: '2' })
})

test('MONOTONIC_USEC: RELOADING=1 without it, or with one from before the signal, never ends the reload', async (t) => {
  const sd = notifyReloadSystemd(t)
  if (!sd) return
  const outcomes = {}
  for (const mode of ['monotonic', 'plain', 'stale']) {
    const unit = sd.unitName(`notify-reload-${mode}`, t)
    const r = await sd.runService(unit, { Type: 'notify-reload', TimeoutStartSec: 3 }, 'notify-reload-raw.js', [mode])
    assert.equal(r.code, 0, r.stderr)
    const reload = await sd.systemctl('reload', `${unit}.service`)
    await sd.waitForReport(unit, (e) => e.event === 'ready' && e.generation === 1)
    const state = await sd.show(unit, ['ActiveState', 'SubState', 'StatusText'])
    outcomes[mode] = { reload: reload.code === 0 ? 'ok' : 'failed', ActiveState: state.ActiveState, StatusText: state.StatusText }
  }
  assert.deepEqual(outcomes.monotonic, { reload: 'ok', ActiveState: 'active', StatusText: 'generation 1' })
  assert.equal(outcomes.plain.reload, 'failed', JSON.stringify(outcomes))
  assert.equal(outcomes.stale.reload, 'failed', JSON.stringify(outcomes))
})
