'use strict'

// Bun and Deno under a real systemd: the services are run by those runtimes (fetched from the
// npm registry by scripts/runtimes.js, as the runtime matrix does), the harness by Node.js. Each
// runtime gets the things a service under systemd relies on: Type=notify start and stop,
// socket activation through listen(), the watchdog killing a blocked event loop, and the journal.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { randomUUID } = require('node:crypto')
const { useSystemd, nextPort, sleep } = require('./harness')
const { runtimeSpecs, fetchRuntime } = require('../../scripts/runtimes')

const e2e = useSystemd()
const CLIENTS = path.join(__dirname, 'clients')

// The runtime matrix (scripts/matrix.js) runs this file once per Node.js it tests; the services
// here do not run on that Node.js, so one run (the host's) is enough.
const inMatrixCell = Boolean(process.env.SD_NOTIFY_RS_E2E_NODE)

/** `[command, ...args]` that runs a CommonJS script with `runtime`. */
function commandFor(runtime) {
  if (runtime.kind === 'bun') return [runtime.exe]
  return [runtime.exe, 'run', '-A', '--unstable-detect-cjs', '--no-check']
}

// Where each runtime keeps its caches: the services have no HOME.
const ENVIRONMENT = 'Environment=DENO_DIR=/tmp/deno-e2e DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 BUN_INSTALL_CACHE_DIR=/tmp/bun-e2e'

for (const kind of ['bun', 'deno']) {
  let runtime
  const setUp = (t) => {
    if (inMatrixCell) return t.skip('run once, by the host Node.js: the services here run on Bun and Deno, not on the matrix cell')
    const sd = e2e.orSkip(t)
    if (!sd) return null
    runtime ??= fetchRuntime(runtimeSpecs().find((r) => r.kind === kind))
    return sd
  }

  test(`${kind}: socket activation, listen() on the passed socket, ready() and a stop confirmed by barrier()`, { timeout: 120_000 }, async (t) => {
    const sd = setUp(t)
    if (!sd) return
    const unit = sd.unitName(`${kind}-http`)
    const port = nextPort()
    const exec = [...commandFor(runtime), sd.service('runtime-http.js')].join(' ')
    await sd.installUnit(`${unit}.socket`, `[Socket]\nListenStream=127.0.0.1:${port}\nFileDescriptorName=http\n`)
    await sd.installUnit(`${unit}.service`, `[Unit]\nRequires=${unit}.socket\nAfter=${unit}.socket\n[Service]\nType=notify\n${ENVIRONMENT}\nExecStart=${exec}\n`)
    t.after(() => sd.systemctl('stop', `${unit}.socket`, `${unit}.service`))
    const started = await sd.systemctl('start', `${unit}.socket`)
    assert.equal(started.code, 0, started.stderr)

    // The first connection starts the service; systemd holds it until the service accepts.
    const r = await sd.exec(sd.node, [path.join(CLIENTS, 'http-get.js'), String(port), '60000'], { timeout: 70_000 })
    assert.equal(r.code, 0, r.stderr)
    const reply = JSON.parse(r.stdout)
    assert.equal(reply.status, 200, `${r.stdout}\n${await sd.journalText(unit)}`)
    const body = JSON.parse(reply.body)
    assert.match(body.runtime, new RegExp(`^${kind} ${runtime.version.replace(/\./g, '\\.')}`))

    const ready = await sd.waitForReport(unit, (e) => e.event === 'ready' || e.event === 'failed', 30_000)
    assert.equal(ready.event, 'ready', JSON.stringify(ready))
    assert.equal(ready.readySent, true)
    assert.deepEqual(ready.listen, { fd: 3, name: 'http', inherited: true, stored: false })
    assert.equal(ready.pid, body.pid, 'the process that said ready is the one that answered')
    const state = await sd.waitFor(unit, (s) => s.ActiveState === 'active', 10_000, ['ActiveState', 'SubState', 'StatusText', 'MainPID'])
    assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: `serving on ${body.runtime}`, MainPID: String(body.pid) })

    const stop = await sd.systemctl('stop', `${unit}.service`)
    assert.equal(stop.code, 0, stop.stderr)
    const stopping = await sd.waitForReport(unit, (e) => e.event === 'stopping')
    assert.deepEqual({ sent: stopping.sent, processed: stopping.processed }, { sent: true, processed: true })
  })

  test(`${kind}: the fd store keeps a server's socket across systemctl restart${kind === 'deno' ? ' (Deno: refused, the descriptor is hidden)' : ''}`, { timeout: 120_000 }, async (t) => {
    const sd = setUp(t)
    if (!sd) return
    const unit = sd.unitName(`${kind}-fdstore`)
    const port = nextPort()
    const exec = [...commandFor(runtime), sd.service('runtime-http.js'), 'store'].join(' ')
    await sd.installUnit(
      `${unit}.service`,
      `[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=notify\nFileDescriptorStoreMax=1\n${ENVIRONMENT} PORT=${port}\nExecStart=${exec}\n`,
    )
    t.after(() => sd.systemctl('stop', `${unit}.service`))
    const started = await sd.systemctl('start', `${unit}.service`)
    if (kind === 'deno') {
      assert.notEqual(started.code, 0, 'Deno hides a server descriptor: listen() must refuse the fd store, and the start fail')
      const failed = await sd.waitForReport(unit, (e) => e.event === 'failed')
      assert.equal(failed.code, 'ERR_SD_NOTIFY_NO_SERVER_FD')
      return
    }
    assert.equal(started.code, 0, `${started.stderr}\n${await sd.journalText(unit)}`)
    const first = await sd.waitForReport(unit, (e) => e.event === 'ready')
    assert.deepEqual({ ...first.listen, fd: typeof first.listen.fd }, { fd: 'number', name: 'http', inherited: false, stored: true })
    const restarted = await sd.systemctl('restart', `${unit}.service`)
    assert.equal(restarted.code, 0, restarted.stderr)
    const second = await sd.waitForReport(unit, (e) => e.event === 'ready' && e.pid !== first.pid)
    assert.deepEqual(second.listen, { fd: 3, name: 'http', inherited: true, stored: false }, 'the next process got the stored socket, named')
    const r = await sd.exec(sd.node, [path.join(CLIENTS, 'http-get.js'), String(port)])
    const reply = JSON.parse(r.stdout)
    assert.equal(reply.status, 200, r.stdout)
    assert.equal(JSON.parse(reply.body).pid, second.pid)
  })

  test(`${kind}: startWatchdog() keeps the service alive, and a blocked event loop gets it killed (Result=watchdog)`, { timeout: 120_000 }, async (t) => {
    const sd = setUp(t)
    if (!sd) return
    const unit = sd.unitName(`${kind}-watchdog`, t)
    const props = { Type: 'notify', WatchdogSec: 2, LimitCORE: 0, Environment: ENVIRONMENT.slice('Environment='.length) }
    const r = await sd.run(unit, props, [...commandFor(runtime), sd.service('watchdog-then-hang.js')], { timeout: 60_000 })
    assert.equal(r.code, 0, `${r.stderr}\n${await sd.journalText(unit)}`)
    const ready = await sd.waitForReport(unit, (e) => e.event === 'ready')
    assert.equal(ready.readySent, true)
    assert.equal(ready.enabled && ready.enabled.timeoutMs, 2000)

    // Healthy through three watchdog periods.
    await sleep(6000)
    assert.deepEqual(await sd.show(unit, ['ActiveState', 'Result', 'MainPID']), { ActiveState: 'active', Result: 'success', MainPID: String(ready.pid) })

    const kill = await sd.systemctl('kill', '-s', 'SIGUSR1', '--kill-who=main', `${unit}.service`)
    assert.equal(kill.code, 0, kill.stderr)
    await sd.waitForReport(unit, (e) => e.event === 'hanging')
    const deadline = Date.now() + 15_000
    let failure
    while (!failure && Date.now() < deadline) {
      failure = (await sd.journal(unit)).find((e) => e.UNIT_RESULT)
      if (!failure) await sleep(200)
    }
    assert.ok(failure, `no failure logged:\n${await sd.journalText(unit)}`)
    assert.equal(failure.UNIT_RESULT, 'watchdog')
  })

  test(`${kind}: journal entries reach journald with their fields, binary values and the 1 MiB memfd path`, { timeout: 120_000 }, async (t) => {
    const sd = setUp(t)
    if (!sd) return
    const unit = sd.unitName(`${kind}-journal`, t)
    const run = randomUUID().replace(/-/g, '')
    const props = { Type: 'exec', Environment: ENVIRONMENT.slice('Environment='.length) }
    const r = await sd.run(unit, props, [...commandFor(runtime), sd.service('journal-writer.js'), run], { timeout: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    const report = await sd.waitForReport(unit, (e) => e.event === 'journal-written', 30_000)
    assert.deepEqual(report.results, { multiline: true, binary: true, repeated: true, big: true, err: true, debug: true })
    assert.equal(report.stats.dropped, 0)
    assert.equal(report.streamConnected, true, 'stdout and stderr of a unit go to the journal')
    const deadline = Date.now() + 10_000
    let entries = []
    while (entries.length < 6 && Date.now() < deadline) {
      entries = await sd.journalctl(`X_RUN=${run}`)
      if (entries.length < 6) await sleep(100)
    }
    const byKind = Object.fromEntries(entries.map((e) => [e.X_KIND, e]))
    assert.equal(byKind.multiline.MESSAGE, 'first line\nsecond line')
    assert.deepEqual(byKind.binary.X_BLOB, [0, 1, 2, 255])
    assert.deepEqual(byKind.repeated.X_TAG, ['a', 'b', 'c'])
    assert.equal(byKind.big.MESSAGE, 'y'.repeat(1024 * 1024))
    assert.equal(byKind.err.PRIORITY, '3')
    for (const e of entries) {
      assert.equal(e.SYSLOG_IDENTIFIER, 'journal-writer', `the script name, not "${kind}"`)
      assert.equal(e._TRANSPORT, 'journal')
    }
  })
}
