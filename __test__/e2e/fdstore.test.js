'use strict'

// Socket activation and the fd store against a real systemd (a private one, see harness.js), with
// the example units and services of examples/: the passed socket arrives with its name, the
// stored socket survives `systemctl restart`, and under continuous load 20 restarts lose no
// request with either of them (and do without them: that number is printed, not asserted).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { useSystemd, nextPort } = require('./harness')

const EXAMPLES = path.join(__dirname, '..', '..', 'examples')
const CLIENTS = path.join(__dirname, 'clients')
const RESTARTS = 20

const e2e = useSystemd()

/**
 * An example unit file made runnable here: its name replaced by `unit`, ExecStart pointing at the
 * example in this checkout with this node, the port set, and no start rate limit (we restart often).
 */
function exampleUnit(sd, file, { example, unit, port, edit = (text) => text }) {
  const base = path.basename(file).replace(/\.(service|socket)$/, '')
  let text = fs.readFileSync(path.join(EXAMPLES, example, file), 'utf8')
  text = text.split(base).join(unit)
  text = text.replace(/^ExecStart=.*$/m, `ExecStart=${sd.node} ${path.join(EXAMPLES, example, 'server.js')}`)
  text = text.replace(/^ListenStream=.*$/m, `ListenStream=127.0.0.1:${port}`)
  text = text.replace(/^Environment=PORT=.*$/m, `Environment=PORT=${port}`)
  text = text.replace(/^\[Unit\]$/m, '[Unit]\nStartLimitIntervalSec=0')
  return edit(text)
}

/** Installs unit files with the harness (removed when the systemd stops); stopped when `t` ends. */
async function install(t, sd, files) {
  for (const [name, text] of Object.entries(files)) await sd.installUnit(name, text)
  t.after(() => sd.systemctl('stop', ...Object.keys(files)))
}

/** One GET from inside the namespace (its loopback); resolves with the parsed JSON body. */
async function get(sd, port) {
  const r = await sd.exec(sd.node, [path.join(CLIENTS, 'http-get.js'), String(port)])
  assert.equal(r.code, 0, r.stderr)
  const reply = JSON.parse(r.stdout)
  assert.equal(reply.status, 200, `GET :${port}: ${r.stdout}`)
  return JSON.parse(reply.body)
}

async function start(sd, unit) {
  const r = await sd.systemctl('start', unit)
  if (r.code !== 0) throw new Error(`systemctl start ${unit} failed: ${r.stderr}\n${await sd.journalText(unit)}`)
}

/** The fd-store example as a unit on `port`; `storeMax` 0 makes it the same service without a store. */
async function fdStoreService(t, sd, scenario, { storeMax = 1 } = {}) {
  const unit = sd.unitName(scenario)
  const port = nextPort()
  const text = exampleUnit(sd, 'hello-fdstore.service', {
    example: 'fd-store',
    unit,
    port,
    edit: (s) => s.replace(/^FileDescriptorStoreMax=.*$/m, `FileDescriptorStoreMax=${storeMax}`),
  })
  await install(t, sd, { [`${unit}.service`]: text })
  return { unit, port }
}

/** The socket-activation example (.socket + .service) on `port`. */
async function socketActivated(t, sd, scenario) {
  const unit = sd.unitName(scenario)
  const port = nextPort()
  const opts = { example: 'socket-activation', unit, port }
  await install(t, sd, {
    [`${unit}.socket`]: exampleUnit(sd, 'hello-socket.socket', opts),
    [`${unit}.service`]: exampleUnit(sd, 'hello-socket.service', opts),
  })
  return { unit, port }
}

/** RESTARTS restarts of `unit` under continuous load on `port`; resolves with the driver's report. */
async function restartUnderLoad(sd, unit, port, { keepAlive = false } = {}) {
  const r = await sd.exec(
    sd.node,
    [path.join(CLIENTS, 'restart-under-load.js'), String(port), `${unit}.service`, String(RESTARTS), '4', '200000', '45000', '10', keepAlive ? 'keepalive' : ''],
    { timeout: 60_000 },
  )
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  for (const restart of report.restarts) assert.equal(restart.code, 0, `systemctl restart failed: ${restart.stderr}`)
  assert.equal(report.restarts.length, RESTARTS, 'the load bound cut the restarts short')
  // The restarts really replaced the process under the load (a process that lived only a few ms
  // on a busy machine may have answered nothing, so not necessarily all RESTARTS + 1 of them).
  assert.ok(report.pids.length >= 2, `pids that answered: ${report.pids.join(' ')}`)
  return report
}

function summary(report) {
  const causes = Object.entries(report.failures)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const restartMs = report.restarts.map((r) => r.ms)
  const avg = Math.round(restartMs.reduce((a, b) => a + b, 0) / restartMs.length)
  return (
    `${report.failed} failed of ${report.requests} requests${report.keepAlive ? ` (${report.reused} on reused keep-alive connections)` : ''}${causes ? ` (${causes})` : ''}, ` +
    `${RESTARTS} restarts (avg ${avg} ms), ${report.pids.length} processes answered, in ${report.ms} ms`
  )
}

test('socket activation: the first connection starts the service, which serves on the passed, named socket', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { unit, port } = await socketActivated(t, sd, 'socket-activation')
  await start(sd, `${unit}.socket`)
  assert.equal((await sd.show(`${unit}.service`, ['ActiveState'])).ActiveState, 'inactive', 'not started before a connection')

  const reply = await get(sd, port)
  assert.deepEqual({ ...reply, pid: undefined }, { pid: undefined, fd: 3, name: 'http', inherited: true, stored: false })
  const state = await sd.show(`${unit}.service`, ['ActiveState', 'SubState', 'MainPID', 'StatusText'])
  assert.equal(state.ActiveState, 'active')
  assert.equal(Number(state.MainPID), reply.pid)
  assert.equal(state.StatusText, 'serving on fd 3 passed by systemd')
})

test('fd store: the socket stored by the first process comes back, named, to the next one after systemctl restart', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { unit, port } = await fdStoreService(t, sd, 'fd-store')
  await start(sd, unit)
  const first = await get(sd, port)
  assert.equal(first.inherited, false)
  assert.equal(first.stored, true, 'fdStore() reached the manager')
  assert.equal(first.name, 'http')
  const stored = await sd.show(unit, ['NFileDescriptorStore'])
  if ('NFileDescriptorStore' in stored) assert.equal(stored.NFileDescriptorStore, '1')

  const r = await sd.systemctl('restart', unit)
  assert.equal(r.code, 0, r.stderr)
  const second = await get(sd, port)
  assert.notEqual(second.pid, first.pid, 'a new process')
  assert.deepEqual({ ...second, pid: undefined }, { pid: undefined, fd: 3, name: 'http', inherited: true, stored: false })
  const state = await sd.show(unit, ['MainPID', 'StatusText'])
  assert.equal(Number(state.MainPID), second.pid)
  assert.equal(state.StatusText, 'serving on fd 3 from the fd store')
})

test(`zero downtime: ${RESTARTS} restarts under continuous load lose no request with the fd store or socket activation`, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return

  const stored = await fdStoreService(t, sd, 'load-fd-store')
  await start(sd, stored.unit)
  const withStore = await restartUnderLoad(sd, stored.unit, stored.port)

  const activated = await socketActivated(t, sd, 'load-socket')
  await start(sd, `${activated.unit}.socket`)
  await start(sd, activated.unit)
  const withSocket = await restartUnderLoad(sd, activated.unit, activated.port)

  const plain = await fdStoreService(t, sd, 'load-no-store', { storeMax: 0 })
  await start(sd, plain.unit)
  const without = await restartUnderLoad(sd, plain.unit, plain.port)

  const lines = [
    `with the fd store:       ${summary(withStore)}`,
    `with socket activation:  ${summary(withSocket)}`,
    `without either:          ${summary(without)}`,
  ]
  for (const line of lines) t.diagnostic(line)
  console.log(`\nzero-downtime comparison (systemd ${sd.version}):\n  ${lines.join('\n  ')}\n`)

  assert.equal(withStore.failed, 0, summary(withStore))
  assert.equal(withSocket.failed, 0, summary(withSocket))
  assert.ok(withStore.ok > RESTARTS && withSocket.ok > RESTARTS && without.ok > 0, 'the load actually ran')
})

test(`drainOnStop() + the fd store: ${RESTARTS} restarts under keep-alive load lose no request`, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('drain-keepalive')
  const port = nextPort()
  const text = exampleUnit(sd, 'drain.service', {
    example: 'drain',
    unit,
    port,
    edit: (s) => s.replace(/^Environment=WORK_MS=.*$/m, 'Environment=WORK_MS=2'),
  })
  await install(t, sd, { [`${unit}.service`]: text })
  await start(sd, unit)
  const report = await restartUnderLoad(sd, unit, port, { keepAlive: true })
  t.diagnostic(`keep-alive with drainOnStop(): ${summary(report)}`)
  console.log(`\nkeep-alive restarts with drainOnStop() (systemd ${sd.version}): ${summary(report)}\n`)
  assert.equal(report.failed, 0, summary(report))
  assert.ok(report.ok > RESTARTS, 'the load actually ran')
  // Connections really were kept alive and reused, across the restarts too.
  assert.ok(report.reused > report.ok / 2, summary(report))
})
