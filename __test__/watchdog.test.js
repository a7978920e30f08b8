'use strict'

// startWatchdog() against this package's own NotifyListener standing in for the service manager.
// Every watchdog runs in a child process (fixtures under __test__/fixtures/) whose NOTIFY_SOCKET
// is the listener: the pings, the fixture's X_PHASE markers and its final X_STATS arrive as one
// ordered stream, with the kernel's word on the sender's pid. Time bounds are deliberately loose
// (a noisy 2-core machine): they tell "prompt" from "hangs until the next tick or forever".

const { median } = require('../testbed/util')
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { join } = require('node:path')
const { performance } = require('node:perf_hooks')
const { NotifyListener } = require('..')
const { runtimeGap } = require('./helpers')

const FIXTURES = join(__dirname, 'fixtures')
const HARD_LIMIT_MS = 30_000

/** The environment of a child under a (stand-in) service manager. */
function childEnv(listener, vars) {
  const env = { ...process.env, NOTIFY_SOCKET: listener.address, ...vars }
  for (const key of ['WATCHDOG_PID', 'LISTEN_PID', 'LISTEN_FDS']) if (!(key in vars)) delete env[key]
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
  return env
}

/**
 * Runs `fixture args...` with its own listener and collects everything it sends until it exits.
 * `onMessage(message, child)` sees each message as it arrives. Killed after HARD_LIMIT_MS.
 */
async function runChild(fixture, args, vars, onMessage) {
  const listener = new NotifyListener()
  const started = performance.now()
  const child = spawn(process.execPath, [join(FIXTURES, fixture), ...args], {
    env: childEnv(listener, vars),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let exit = null
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal, at: performance.now() }
      resolve()
    }),
  )
  const killer = setTimeout(() => child.kill('SIGKILL'), HARD_LIMIT_MS)
  const messages = []
  const take = async (waitMs) => {
    try {
      const m = await listener.receive(waitMs)
      const message = { at: performance.now(), text: m.text, fields: m.fields, pid: m.pid }
      messages.push(message)
      if (onMessage) onMessage(message, child)
      return true
    } catch (err) {
      if (err.code !== 'ETIMEDOUT') throw err
      return false
    }
  }
  while (exit === null) await take(100)
  while (await take(100)); // what was still queued when it exited
  await exited
  clearTimeout(killer)
  listener.close()
  const phase = (name) => messages.find((m) => m.fields.X_PHASE === name)
  const statsMessage = messages.find((m) => m.fields.X_STATS)
  return {
    ...exit,
    ms: exit.at - started,
    stdout,
    stderr,
    messages,
    pings: messages.filter((m) => m.text === 'WATCHDOG=1'),
    triggers: messages.filter((m) => m.text === 'WATCHDOG=trigger'),
    phase,
    stats: statsMessage ? JSON.parse(statsMessage.fields.X_STATS) : null,
    pid: child.pid,
  }
}

const service = (scenario, vars, onMessage) => runChild('watchdog-service.js', [scenario], vars, onMessage)

async function probe(check, vars) {
  const r = await runChild('watchdog-probe.js', [check], vars)
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const between = (list, from, to) => list.filter((m) => m.at > from.at && m.at < to.at)
const after = (list, from) => list.filter((m) => m.at > from.at)
const gaps = (pings) => pings.slice(1).map((p, i) => p.at - pings[i].at)

test('pings arrive every half of WATCHDOG_USEC, from the service itself', async () => {
  const r = await service('steady', { WATCHDOG_USEC: '400000', RUN_MS: '2000' })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stats.intervalMs, 200)
  // ~10 expected in 2 s; the bounds only rule out "none", "one" and "a flood".
  assert.ok(r.pings.length >= 5 && r.pings.length <= 15, `${r.pings.length} pings`)
  const m = median(gaps(r.pings))
  assert.ok(m > 100 && m < 400, `median gap ${m} ms`)
  assert.ok(r.pings.every((p) => p.pid === r.pid), 'sent by the service process')
  // The timer thread counts a ping once its sendmsg returned: a stats() call in between (X_STATS
  // here) sees one ping fewer than already went out, never more.
  const statsAt = r.messages.findIndex((m) => m.fields.X_STATS)
  const pingsBefore = r.messages.slice(0, statsAt).filter((m) => m.text === 'WATCHDOG=1').length
  assert.ok([pingsBefore, pingsBefore - 1].includes(r.stats.pingsSent), `stats say ${r.stats.pingsSent} pings sent, ${pingsBefore} arrived before them`)
  // A healthy loop answers (nearly) every request in time; on a loaded 2-core machine one or two
  // answers may come after the next request (skipped pings), never most of them.
  assert.ok(r.stats.pingsSkipped <= 2, `${r.stats.pingsSkipped} pings skipped`)
  assert.ok(r.stats.lastPingAt > Date.now() - 60_000 && r.stats.lastPingAt <= Date.now())
  assert.ok(r.stats.maxResponseMs >= 0 && r.stats.maxResponseMs < 1000, `max response ${r.stats.maxResponseMs} ms`)
})

test('intervalMs sets the ping interval', async () => {
  const r = await service('steady', {
    WATCHDOG_USEC: '10000000',
    RUN_MS: '1500',
    WD_OPTIONS: JSON.stringify({ intervalMs: 100 }),
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stats.intervalMs, 100)
  assert.ok(r.pings.length >= 7, `${r.pings.length} pings in 1.5 s at 100 ms (the default would give 1)`)
  const m = median(gaps(r.pings))
  assert.ok(m > 50 && m < 250, `median gap ${m} ms`)
})

test('a blocked event loop sends no ping for three intervals, and pings resume after', async () => {
  const r = await service('block', { WATCHDOG_USEC: '600000' })
  assert.equal(r.code, 0, r.stderr)
  const start = r.phase('block-start')
  const end = r.phase('block-end')
  assert.ok(start && end, 'markers arrived')
  const during = between(r.pings, start, end)
  // At most the answer the loop gave just before it blocked can land after the marker.
  assert.ok(during.length <= 1, `${during.length} pings while the loop was blocked`)
  const before = r.pings.filter((p) => p.at < end.at).at(-1)
  const resumed = after(r.pings, end)
  assert.ok(resumed.length >= 2, `${resumed.length} pings after the block`)
  const silence = resumed[0].at - before.at
  assert.ok(silence > 450, `only ${silence} ms without a ping around a 900 ms block`)
  assert.ok(r.stats.lateResponses >= 2, `lateResponses ${r.stats.lateResponses}`)
  assert.ok(r.stats.pingsSkipped >= 2, `pingsSkipped ${r.stats.pingsSkipped}`)
  assert.ok(r.stats.maxResponseMs >= 500, `maxResponseMs ${r.stats.maxResponseMs} (the loop was blocked 900 ms)`)
})

for (const how of ['throw', 'reject', 'false', 'hang']) {
  test(`a health check that fails (${how}) skips the ping, and pings resume when it passes again`, async () => {
    const r = await service('unhealthy', { WATCHDOG_USEC: '400000', FAIL_HOW: how })
    assert.equal(r.code, 0, r.stderr)
    const sick = r.phase('unhealthy')
    const well = r.phase('healthy-again')
    assert.ok(sick && well, 'markers arrived')
    assert.ok(r.pings.filter((p) => p.at < sick.at).length >= 2, 'healthy before')
    assert.equal(between(r.pings, sick, well).length, 0, 'no ping while unhealthy')
    assert.ok(after(r.pings, well).length >= 1, 'pings resume')
    assert.equal(r.triggers.length, 0, "'skip' never sends WATCHDOG=trigger")
    assert.equal(r.stats.healthCheckFailures, 3)
    const code = how === 'hang' ? 'ETIMEDOUT' : 'ERR_SD_NOTIFY_WATCHDOG_UNHEALTHY'
    assert.deepEqual(r.stats.errors, [code, code, code])
  })
}

test("failureAction 'trigger' sends WATCHDOG=trigger instead of a ping when the check fails", async () => {
  const r = await service('unhealthy', {
    WATCHDOG_USEC: '400000',
    FAIL_HOW: 'throw',
    WD_OPTIONS: JSON.stringify({ failureAction: 'trigger' }),
  })
  assert.equal(r.code, 0, r.stderr)
  const sick = r.phase('unhealthy')
  const well = r.phase('healthy-again')
  assert.equal(r.triggers.filter((t) => t.at < sick.at).length, 0)
  assert.equal(between(r.triggers, sick, well).length, 3)
  assert.equal(between(r.pings, sick, well).length, 0)
  assert.equal(r.stats.triggersSent, 3)
})

test('WATCHDOG_PID of another process, or no WATCHDOG_USEC, or no NOTIFY_SOCKET: null and no thread', async () => {
  const other = await probe('disabled', { WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) })
  assert.deepEqual(other, { watchdog: null, enabled: null, threadsCreated: 0 })
  const unset = await probe('disabled', { WATCHDOG_USEC: undefined })
  assert.deepEqual(unset, { watchdog: null, enabled: null, threadsCreated: 0 })
  const noSocket = await probe('disabled', { WATCHDOG_USEC: '2000000', NOTIFY_SOCKET: undefined })
  assert.equal(noSocket.watchdog, null)
  assert.equal(noSocket.threadsCreated, 0)
})

test('bad options and an interval not shorter than the timeout throw coded errors', async () => {
  const codes = await probe('options', { WATCHDOG_USEC: '2000000' })
  assert.deepEqual(codes, {
    intervalNotShorter: 'ERR_SD_NOTIFY_WATCHDOG_INTERVAL',
    intervalLonger: 'ERR_SD_NOTIFY_WATCHDOG_INTERVAL',
    intervalZero: 'ERR_SD_NOTIFY_INVALID_NUMBER',
    intervalFraction: 'ERR_SD_NOTIFY_INVALID_NUMBER',
    intervalString: 'ERR_SD_NOTIFY_INVALID_NUMBER',
    checkTimeoutNotShorter: 'ERR_SD_NOTIFY_INVALID_NUMBER',
    failureAction: 'ERR_SD_NOTIFY_INVALID_VALUE',
    healthCheck: 'ERR_SD_NOTIFY_INVALID_VALUE',
    onError: 'ERR_SD_NOTIFY_INVALID_VALUE',
    options: 'ERR_SD_NOTIFY_INVALID_VALUE',
  })
})

test('a malformed WATCHDOG_USEC or NOTIFY_SOCKET throws its code', async () => {
  assert.deepEqual(await probe('badEnvironment', { WATCHDOG_USEC: 'soon' }), { code: 'ERR_SD_NOTIFY_INVALID_ENV' })
  assert.deepEqual(await probe('badEnvironment', { WATCHDOG_USEC: '2000000', NOTIFY_SOCKET: 'relative/path' }), {
    code: 'ERR_SD_NOTIFY_INVALID_ADDRESS',
  })
})

test('one watchdog per process; stop() is idempotent, wakes the thread at once and frees the slot', async () => {
  const r = await probe('lifecycle', { WATCHDOG_USEC: '60000000' })
  assert.deepEqual(r.started, {
    isWatchdog: true,
    intervalMs: 30000,
    timeoutMs: 60000,
    healthCheckTimeoutMs: 15000,
    failureAction: 'trigger',
    running: true,
    threadsCreated: 1,
  })
  assert.equal(r.second, 'ERR_SD_NOTIFY_WATCHDOG_RUNNING')
  // The thread sleeps until a tick 30 s away: stop() must wake it, not wait for it.
  assert.ok(r.stopMs < 5000, `stop() took ${r.stopMs} ms`)
  assert.deepEqual(r.afterStop, { running: false, statsRunning: false, threadsLeft: 0 })
  assert.equal(r.restarted, true)
})

test('a process whose work is done exits by itself although its watchdog runs', async () => {
  // A 30 s interval: waiting for the next tick, or being kept alive, would show.
  const r = await service('done', { WATCHDOG_USEC: '60000000' })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.ok(r.phase('work-done'))
  assert.equal(r.pings.length, 1)
  assert.ok(r.ms < 15_000, `exited after ${r.ms} ms`)
})

test('process.exit() ends a process with a running watchdog promptly, with its exit code', async () => {
  const r = await service('exit', { WATCHDOG_USEC: '400000' })
  assert.equal(r.code, 7, r.stderr)
  assert.ok(r.at - r.phase('exiting').at < 5000)
})

test('SIGTERM ends a process with a running watchdog promptly', async () => {
  let killedAt = 0
  const r = await service('sigterm', { WATCHDOG_USEC: '400000' }, (m, child) => {
    if (m.fields.X_PHASE === 'waiting-for-sigterm') {
      killedAt = performance.now()
      child.kill('SIGTERM')
    }
  })
  assert.equal(r.signal, 'SIGTERM', `exit ${r.code} ${r.stderr}`)
  assert.ok(killedAt > 0 && r.at - killedAt < 5000)
})

test('a SIGTERM handler that stops the watchdog and exits runs promptly', runtimeGap({ deno: "child_process reports a child it sent SIGTERM as killed by it even when the child's handler exited 0" }), async () => {
  let killedAt = 0
  const r = await service('sigterm', { WATCHDOG_USEC: '400000', SIGTERM_HANDLER: '1' }, (m, child) => {
    if (m.fields.X_PHASE === 'waiting-for-sigterm') {
      killedAt = performance.now()
      child.kill('SIGTERM')
    }
  })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(killedAt > 0 && r.at - killedAt < 5000)
})

test('an uncaught exception ends a process with a running watchdog promptly, with code 1', async () => {
  const r = await service('uncaught', { WATCHDOG_USEC: '400000' })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /boom: an uncaught exception/)
  assert.ok(r.at - r.phase('throwing').at < 5000)
})

for (const mode of ['terminate', 'terminate-blocked']) {
  // Deno resolves terminate() before the Worker's environment is torn down, so its watchdog may
  // still hold the slot: always when the Worker's loop is busy, now and then when it is idle
  // (seen in CI: 1 run in 3).
  const gap = { deno: "after terminate() of a Worker resolves, the Worker's environment may not have been torn down yet: its watchdog can still hold the slot" }
  test(`a Worker running the watchdog can be terminated${mode === 'terminate-blocked' ? ' while its loop is busy' : ''}, freeing the slot`, runtimeGap(gap), async () => {
    const r = await runChild('watchdog-worker.js', [mode], { WATCHDOG_USEC: '400000' })
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.exitCode, 1, 'terminated')
    assert.ok(out.terminateMs < 5000, `terminate() took ${out.terminateMs} ms`)
    assert.ok(out.mainPings >= 1, 'the main thread could start its own watchdog afterwards')
    assert.ok(r.pings.length >= 2)
  })
}

test('process.exit() while a Worker runs the watchdog ends the process promptly', async () => {
  const r = await runChild('watchdog-worker.js', ['exit'], { WATCHDOG_USEC: '400000' })
  assert.equal(r.code, 3, r.stderr)
  assert.ok(r.pings.length >= 1)
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`)
})
