'use strict'
// onReload() and drainOnStop() against a NotifyListener: the exact notifications of a reload (by
// SIGHUP and by `sd-notify-rs reload <pid>`), a failing handler, unregistering, and bad arguments.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const path = require('node:path')
const { once } = require('node:events')
const { sd, useListener, runtimeGap, GAPS } = require('./helpers')

const CHILD = path.join(__dirname, 'fixtures', 'reload-child.js')
const BIN = path.join(__dirname, '..', 'bin', 'sd-notify-rs.js')

async function startChild(t, listener, mode, extra = []) {
  const child = cp.spawn(process.execPath, [CHILD, mode, ...extra], { env: { ...process.env, NOTIFY_SOCKET: listener.address }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  child.stdout.setEncoding('utf8')
  await once(child.stdout, 'data')
  return child
}

const fieldsOf = async (listener) => (await listener.receive(5000)).fields

// The reload channel needs Node.js >= 20.8 (abstract socket names; lib/reload.js); before, the
// command refuses, which the last test of this group checks.
const { abstractSocketsWork } = require('../lib/reload')
const channel = { skip: !abstractSocketsWork() && `Node.js ${process.version} cuts abstract socket names short: no reload channel` }

test('SIGHUP: RELOADING=1 with MONOTONIC_USEC in one datagram, the handler, then READY=1 with STATUS=reloaded', async (t) => {
  const listener = useListener(t)
  const child = await startChild(t, listener, 'ok')
  child.kill('SIGHUP')
  const first = await fieldsOf(listener)
  assert.equal(first.RELOADING, '1')
  assert.match(first.MONOTONIC_USEC, /^\d+$/)
  assert.deepEqual(await fieldsOf(listener), { READY: '1', STATUS: 'reloaded' })
})

test('a failing handler ends the reload with READY=1, the error in STATUS= and ERRNO=; the service stays up', async (t) => {
  const listener = useListener(t)
  const child = await startChild(t, listener, 'fail')
  child.kill('SIGHUP')
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
  assert.deepEqual(await fieldsOf(listener), { READY: '1', STATUS: 'reload failed: bad config', ERRNO: '2' })
  assert.equal(child.exitCode, null, 'still running')
})

test('sd-notify-rs reload <pid> waits for the handler and exits 0, or 1 with the handler\'s error', channel, async (t) => {
  const listener = useListener(t)
  const ok = await startChild(t, listener, 'ok')
  const r = cp.spawnSync(process.execPath, [BIN, 'reload', String(ok.pid)], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
  assert.equal((await fieldsOf(listener)).STATUS, 'reloaded')
  const failing = await startChild(t, listener, 'fail')
  const f = cp.spawnSync(process.execPath, [BIN, 'reload', String(failing.pid)], { encoding: 'utf8' })
  assert.equal(f.status, 1)
  assert.match(f.stderr, /the reload of pid \d+ failed: bad config/)
})

test('sd-notify-rs reload of a process without onReload() fails with a message that says so', channel, () => {
  const r = cp.spawnSync(process.execPath, [BIN, 'reload', String(process.pid)], { encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /does not take reload requests \(it has no onReload\(\) handler\)/)
  const usage = cp.spawnSync(process.execPath, [BIN, 'reload', 'abc'], { encoding: 'utf8' })
  assert.equal(usage.status, 2)
})

test('the reload channel is served from Node.js 20.8 on; before, sd-notify-rs reload refuses with ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM and SIGHUP still works', async (t) => {
  for (const [node, works] of [['18.20.8', false], ['20.7.0', false], ['20.8.0', true], ['22.0.0', true], ['26.1.0', true]]) {
    assert.equal(abstractSocketsWork({ node }), works, node)
  }
  if (abstractSocketsWork()) return
  const listener = useListener(t)
  const child = await startChild(t, listener, 'ok')
  const r = cp.spawnSync(process.execPath, [BIN, 'reload', String(child.pid)], { encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /needs Node\.js 20\.8 or later .*kill -HUP/)
  await assert.rejects(require('../lib/reload').requestReload(child.pid), { code: 'ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM' })
  child.kill('SIGHUP')
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
})

test('the function onReload() returns unregisters the handler and the SIGHUP listener', async (t) => {
  const listener = useListener(t)
  const child = await startChild(t, listener, 'ok')
  child.kill('SIGUSR2')
  const [line] = await once(child.stdout, 'data')
  assert.equal(line.trim(), 'listeners 0')
})

test('onReload() keeps nothing alive: a process with only a handler exits by itself', async (t) => {
  const listener = useListener(t)
  const child = cp.spawn(process.execPath, [CHILD, 'ok', 'exit-alone'], { env: { ...process.env, NOTIFY_SOCKET: listener.address }, stdio: 'ignore' })
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})

test('onReload(), drainOnStop() and clusterPrimary() refuse bad arguments with a code', () => {
  assert.throws(() => sd.onReload('not a function'), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => sd.drainOnStop([]), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => sd.drainOnStop({}), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  const server = require('node:http').createServer()
  assert.throws(() => sd.drainOnStop(server, { timeoutMs: -1 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => sd.drainOnStop(server, { idleGraceMs: 0.5 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => sd.clusterPrimary({ workers: 0 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  const off = sd.drainOnStop(server, { exit: () => {} })
  assert.equal(process.listenerCount('SIGTERM'), 1)
  off()
  assert.equal(process.listenerCount('SIGTERM'), 0)
  assert.equal(server.listenerCount('request'), 0)
})

test('drainOnStop(): a request on a kept-alive connection after SIGTERM is answered with Connection: close, an idle one is closed after the grace, then exit(0)', runtimeGap(GAPS.keepAliveDrain), async (t) => {
  const http = require('node:http')
  const net = require('node:net')
  // The application answers synchronously: the drain's header must already be set by then.
  const server = http.createServer((req, res) => res.end('ok'))
  let exited
  const exitCode = new Promise((resolve) => (exited = resolve))
  const off = sd.drainOnStop(server, { idleGraceMs: 300, exit: exited })
  t.after(off)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => agent.destroy())
  const get = () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, agent }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, reused: req.reusedSocket }))
      })
      req.on('error', reject)
    })
  assert.deepEqual(await get(), { status: 200, connection: 'keep-alive', reused: false })
  // A second client that connected and sent nothing: only the grace's end closes it.
  const idle = net.connect(port, '127.0.0.1')
  await once(idle, 'connect')
  const idleClosed = once(idle, 'close')
  process.emit('SIGTERM')
  // Sent on the kept-alive connection after the stop began: answered, not reset.
  assert.deepEqual(await get(), { status: 200, connection: 'close', reused: true })
  await idleClosed
  assert.equal(await exitCode, 0)
})

test('drainOnStop() whose every notification fails: the SIGTERM handler does not throw, the in-flight request finishes, exit 0 (issue 23 item 2)', async (t) => {
  const child = cp.spawn(process.execPath, [path.join(__dirname, 'fixtures', 'drain-broken-socket.js'), '600'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  child.stdout.setEncoding('utf8')
  const [line] = await once(child.stdout, 'data')
  const port = Number(/port (\d+)/.exec(line)[1])
  const http = require('node:http')
  const answer = new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/slow' }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => (body += d))
      res.on('end', () => resolve(`${res.statusCode} ${body}`))
    }).on('error', reject)
  })
  await new Promise((resolve) => setTimeout(resolve, 150)) // the request is in flight
  const exited = once(child, 'exit')
  // process.kill(), not child.kill(): Deno's ChildProcess reports a child it sent SIGTERM through
  // kill() as killed by it, whatever the child's handler did.
  process.kill(child.pid, 'SIGTERM')
  assert.equal(await answer, '200 slow done', `the in-flight request was lost: ${stderr}`)
  const [code, signal] = await exited
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr)
  assert.match(stderr, /SD_NOTIFY_RS_DRAIN_NOTIFY_FAILED/)
  assert.equal(stderr.match(/SD_NOTIFY_RS_DRAIN_NOTIFY_FAILED/g).length, 1, 'warned once, not at every extension')
})

test('drainOnStop() refuses times Node cannot keep (over 2^31-1 ms: its timers would fire after 1 ms), with a code', () => {
  const server = require('node:http').createServer()
  for (const name of ['timeoutMs', 'extendMs', 'idleGraceMs']) {
    assert.throws(() => sd.drainOnStop(server, { [name]: 3e9, exit: () => {} }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER', message: new RegExp(`${name} must be an integer from \\d to 2147483647`) }, name)
  }
  const off = sd.drainOnStop(server, { timeoutMs: 2 ** 31 - 1, extendMs: 2 ** 31 - 1, idleGraceMs: 2 ** 31 - 1, exit: () => {} })
  off()
  assert.equal(process.listenerCount('SIGTERM'), 0)
})

test('own properties only: a polluted Object.prototype changes nothing drainOnStop(), startWatchdog(), clusterPrimary() and listen() do (issue 23 item 4)', () => {
  const r = cp.spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'pollution.js')], { encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: '' } })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['clusterPrimary ok', 'drainOnStop ok', 'listen ok', 'startWatchdog ok'])
})

test('own properties only: Object.prototype.MAINPID = 1, then notify({ STATUS }) sends only STATUS', async (t) => {
  const listener = useListener(t)
  const r = cp.spawnSync(process.execPath, ['-e', `Object.prototype.MAINPID = 1; require(${JSON.stringify(path.join(__dirname, '..'))}).notify({ STATUS: 'hello' })`], {
    encoding: 'utf8',
    env: { ...process.env, NOTIFY_SOCKET: listener.address },
  })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(await fieldsOf(listener), { STATUS: 'hello' })
})
