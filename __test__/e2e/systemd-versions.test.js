'use strict'

// What differs between the systemd versions users run (Debian 11's 247, 12's 252, 13's 257):
// each test asserts what this manager's version does, so the same file passes on every one and
// checks the version table of testbed/README.md (scripts/systemd-matrix.js runs it on each).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd } = require('./harness')

const e2e = useSystemd()

test('SYSTEMD_EXEC_PID is set from systemd 248 (what the NotifyAccess=main diagnostics read); unset before', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('exec-pid', t)
  // No `$` in it: systemd expands $VAR and ${VAR} in a command line itself.
  const SCRIPT = "console.log('E2E_EXEC_PID=' + (process.env.SYSTEMD_EXEC_PID || 'unset') + ' self=' + process.pid)"
  const r = await sd.run(unit, { Type: 'oneshot' }, [sd.node, '-e', SCRIPT])
  assert.equal(r.code, 0, r.stderr)
  const line = await sd.waitForJournal(unit, /^E2E_EXEC_PID=/)
  const m = /E2E_EXEC_PID=(\S+) self=(\d+)/.exec(line.MESSAGE)
  assert.ok(m, JSON.stringify(line.MESSAGE))
  const [, execPid, self] = m
  if (sd.version >= 248) assert.equal(execPid, self)
  else assert.equal(execPid, 'unset')
})

test('NOTIFYACCESS=all from the main process lets a child notify from systemd 254; before, the child is refused', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('notifyaccess', t)
  const r = await sd.runService(unit, { Type: 'notify', TimeoutStartSec: 3 }, 'notify-access-handover.js')
  await sd.waitForReport(unit, (e) => e.event === 'child-ready')
  const state = await sd.show(unit, ['ActiveState', 'Result', 'NotifyAccess'])
  if (sd.version >= 254) {
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(state, { ActiveState: 'active', Result: 'success', NotifyAccess: 'all' })
  } else {
    assert.notEqual(r.code, 0, 'a child was heard under NotifyAccess=main')
    assert.deepEqual([state.Result, state.NotifyAccess], ['timeout', 'main'])
  }
})

test('RELOADING=1 with MONOTONIC_USEC under Type=notify + ExecReload: every version reloads (older ones ignore MONOTONIC_USEC)', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('monotonic-usec', t)
  const r = await sd.runService(unit, { Type: 'notify', ExecReload: '/bin/kill -HUP $MAINPID' }, 'notify-reload-raw.js', ['monotonic'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal((await sd.systemctl('reload', `${unit}.service`)).code, 0)
  await sd.waitFor(unit, (s) => s.StatusText === 'generation 1' && s.ActiveState === 'active', 5000)
})
