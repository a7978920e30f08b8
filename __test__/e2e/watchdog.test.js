'use strict'

// The watchdog against a real systemd: startWatchdog() must keep a healthy service alive, and must
// stop pinging once the JavaScript event loop is stuck, so that the manager kills and restarts it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSystemd, sleep } = require('./harness')

const e2e = useSystemd()

const WATCHDOG_SEC = 2
const HEALTHY_MS = 10_000
// From the moment the loop blocks: at most WatchdogSec until the manager's timer fires (pings are
// at least as frequent as its expiry), plus this much for the kill and the log to land.
const KILL_MARGIN_MS = 1500

test('startWatchdog() keeps a healthy service alive; a blocked event loop gets it killed (Result=watchdog) and restarted', { timeout: 60_000 }, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('watchdog', t)
  const props = {
    Type: 'notify',
    WatchdogSec: WATCHDOG_SEC,
    Restart: 'on-failure',
    RestartSec: '500ms',
    StartLimitIntervalSec: 0,
    LimitCORE: 0, // the watchdog's SIGABRT must not write a core of node into the tmpfs
  }
  const r = await sd.runService(unit, props, 'watchdog-then-hang.js')
  assert.equal(r.code, 0, `${r.stderr}\n${await sd.journalText(unit)}`)

  const ready = await sd.waitForReport(unit, (e) => e.event === 'ready')
  assert.equal(ready.readySent, true)
  assert.equal(ready.hasStop, true, 'startWatchdog() returns a handle with stop()')
  assert.ok(ready.enabled, 'watchdogEnabled() under WatchdogSec=2')
  assert.equal(ready.enabled.timeoutMs, WATCHDOG_SEC * 1000)

  // Healthy: well past several watchdog periods, the same process is still running.
  const firstPid = (await sd.show(unit, ['MainPID'])).MainPID
  const healthyUntil = Date.now() + HEALTHY_MS
  while (Date.now() < healthyUntil) {
    const s = await sd.show(unit, ['ActiveState', 'SubState', 'Result', 'NRestarts', 'MainPID'])
    assert.deepEqual(
      s,
      { ActiveState: 'active', SubState: 'running', Result: 'success', NRestarts: '0', MainPID: firstPid },
      `unhealthy after ${HEALTHY_MS - (healthyUntil - Date.now())} ms:\n${await sd.journalText(unit)}`,
    )
    await sleep(250)
  }

  // Stuck: SIGUSR1 makes the service spin forever without returning to the event loop.
  const kill = await sd.systemctl('kill', '-s', 'SIGUSR1', '--kill-who=main', `${unit}.service`)
  assert.equal(kill.code, 0, kill.stderr)
  const hanging = await sd.waitForReport(unit, (e) => e.event === 'hanging')
  const hangEntry = (await sd.journal(unit)).find((e) => String(e.MESSAGE).includes('"event":"hanging"'))

  const restarted = await sd.waitFor(
    unit,
    (s) => Number(s.NRestarts) >= 1 && s.ActiveState === 'active' && s.MainPID !== firstPid,
    (WATCHDOG_SEC * 1000 + KILL_MARGIN_MS) * 2 + 5000,
  )
  assert.equal(restarted.SubState, 'running')

  const journal = await sd.journal(unit)
  const failure = journal.find((e) => e.UNIT_RESULT)
  assert.ok(failure, `no failure logged:\n${await sd.journalText(unit)}`)
  assert.equal(failure.UNIT_RESULT, 'watchdog')
  assert.ok(journal.some((e) => /Watchdog timeout/.test(String(e.MESSAGE))), 'systemd logged the watchdog timeout')
  const killedAfterMs = (Number(failure.__REALTIME_TIMESTAMP) - Number(hangEntry.__REALTIME_TIMESTAMP)) / 1000
  t.diagnostic(`killed by the watchdog ${killedAfterMs} ms after the event loop blocked`)
  assert.ok(
    killedAfterMs <= WATCHDOG_SEC * 1000 + KILL_MARGIN_MS,
    `killed ${killedAfterMs} ms after the event loop blocked; WatchdogSec=${WATCHDOG_SEC}`,
  )
  assert.ok(killedAfterMs > 0, `killed ${killedAfterMs} ms after the event loop blocked?`)
  assert.equal(hanging.pid, Number(firstPid), 'the process that hung was the original main process')

  // The restarted service is healthy again and pings on its own.
  const second = await sd.waitForReport(unit, (e) => e.event === 'ready' && e.pid !== ready.pid)
  assert.equal(second.readySent, true)
})
