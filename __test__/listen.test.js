'use strict'

// listen(): the one-line helper. A passed socket is used by name (in child processes that really
// inherit sockets at 3 and 4); otherwise a new socket is created and handed to the fd store
// (checked against a NotifyListener standing in for systemd).

const { test, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const { EventEmitter, once } = require('node:events')
const { sd, useFileListener, childReport, runtimeGap, GAPS, RUNTIME } = require('./helpers')

const CHILD = path.join(__dirname, 'fixtures', 'listen-fds-child.js')
const SH_WRAPPER = 'export LISTEN_PID=$$; exec "$@"'

const manager = useFileListener()
const { receive, assertNothingArrives } = manager

afterEach(() => {
  delete process.env.FDSTORE
})

// Children get sockets this process listens on: where servers hide their descriptor (Deno)
// there is nothing to hand them, and Bun's node:http server cannot take them.
const childGap = { bun: GAPS.httpFd.bun, deno: `the test cannot pass its sockets to a child: ${GAPS.serverFd.deno}` }

function server(t) {
  const s = http.createServer((req, res) => res.end('ok'))
  t.after(() => s.close())
  return s
}

/**
 * A child with two fresh listening sockets at fds 3 and 4 and LISTEN_PID its own; resolves with
 * its report and the sockets' ports. Our copies are closed once the child has its own, so that
 * only the child accepts connections on them.
 */
async function runChild(env, plan) {
  const passed = [net.createServer(), net.createServer()]
  await Promise.all(passed.map((p) => new Promise((resolve) => p.listen(0, '127.0.0.1', resolve))))
  const ports = passed.map((p) => p.address().port)
  const child = cp.spawn('/bin/sh', ['-c', SH_WRAPPER, 'sh', process.execPath, CHILD, JSON.stringify(plan)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...passed.map((p) => p._handle.fd)],
  })
  for (const p of passed) p.close()
  return { ...(await childReport(child)), ports }
}

test('nothing passed: listens as server.listen(options) would and stores the socket under the name', runtimeGap(GAPS.httpFd), async (t) => {
  const s = server(t)
  const returned = await sd.listen(s, { name: 'http', port: 0, host: '127.0.0.1', fdStore: true })
  assert.equal(returned, s)
  assert.equal(s.listening, true)
  assert.equal(s.address().address, '127.0.0.1')
  assert.deepEqual(sd.listenInfo(s), { fd: s._handle.fd, name: 'http', inherited: false, stored: true })
  const m = await receive()
  assert.equal(m.text, 'FDSTORE=1\nFDNAME=http')
  assert.equal(fs.fstatSync(m.fds[0]).ino, fs.fstatSync(s._handle.fd).ino)
})

test("fdStore 'auto' (the default) stores only when systemd set FDSTORE (systemd >= 254)", runtimeGap(GAPS.httpFd), async (t) => {
  const a = server(t)
  await sd.listen(a, { name: 'a', port: 0, host: '127.0.0.1' })
  assert.equal(sd.listenInfo(a).stored, false)
  await assertNothingArrives()

  process.env.FDSTORE = '1'
  const b = server(t)
  await sd.listen(b, { name: 'b', port: 0, host: '127.0.0.1' })
  assert.equal(sd.listenInfo(b).stored, true)
  assert.equal((await receive()).fields.FDNAME, 'b')

  process.env.FDSTORE = '0'
  const c = server(t)
  await sd.listen(c, { port: 0, host: '127.0.0.1' })
  assert.equal(sd.listenInfo(c).stored, false)
  await assertNothingArrives()
})

test('fdStore: false never stores; poll: false stores with FDPOLL=0', runtimeGap(GAPS.httpFd), async (t) => {
  process.env.FDSTORE = '4'
  const a = server(t)
  await sd.listen(a, { name: 'a', port: 0, host: '127.0.0.1', fdStore: false })
  await assertNothingArrives()
  const b = server(t)
  await sd.listen(b, { port: 0, host: '127.0.0.1', poll: false })
  assert.equal((await receive()).text, 'FDSTORE=1\nFDPOLL=0')
})

test('not under a manager: listens, stored is false', runtimeGap(GAPS.httpFd), async (t) => {
  delete process.env.NOTIFY_SOCKET
  t.after(() => (process.env.NOTIFY_SOCKET = manager.listener.address))
  const s = server(t)
  await sd.listen(s, { name: 'http', port: 0, host: '127.0.0.1', fdStore: true })
  assert.deepEqual(sd.listenInfo(s), { fd: s._handle.fd, name: 'http', inherited: false, stored: false })
})

test('passed sockets are taken by name, once each; the port option is then ignored', runtimeGap(childGap), async () => {
  const r = await runChild(
    { LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' },
    {
      calls: [],
      listen: [
        { name: 'metrics', port: 1 },
        { name: 'http', port: 1 },
        { name: 'http', port: 0, host: '127.0.0.1' }, // the passed 'http' is taken: a new socket
      ],
    },
  )
  const [metrics, http1, http2] = r.servers
  assert.deepEqual(metrics.info, { fd: 4, name: 'metrics', inherited: true, stored: false })
  assert.equal(metrics.port, r.ports[1])
  assert.equal(metrics.answered, true)
  assert.deepEqual(http1.info, { fd: 3, name: 'http', inherited: true, stored: false })
  assert.equal(http1.port, r.ports[0])
  assert.equal(http1.answered, true)
  assert.equal(http2.info.inherited, false)
  assert.notEqual(http2.port, r.ports[0])
  assert.equal(http2.answered, true)
})

test('without a name the one passed socket is taken whatever its name', runtimeGap(childGap), async () => {
  const r = await runChild({ LISTEN_FDS: '1', LISTEN_FDNAMES: 'stored' }, { calls: [], listen: [{}] })
  assert.deepEqual(r.servers[0].info, { fd: 3, name: 'stored', inherited: true, stored: false })
  assert.equal(r.servers[0].answered, true)
})

test('listen() still finds passed sockets after listenFds() took them (and unset the variables)', runtimeGap(childGap), async () => {
  const r = await runChild(
    { LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' },
    { calls: [{ unsetEnvironment: true }], listen: [{ name: 'http' }] },
  )
  assert.deepEqual(r.env, {})
  assert.deepEqual(r.servers[0].info, { fd: 3, name: 'http', inherited: true, stored: false })
})

test('without a name, more than one passed socket is ambiguous: ERR_SD_NOTIFY_INVALID_VALUE', async () => {
  const r = await runChild({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' }, { calls: [], listen: [{ port: 0 }] })
  assert.equal(r.servers[0].error.code, 'ERR_SD_NOTIFY_INVALID_VALUE')
  assert.match(r.servers[0].error.message, /http, metrics.*options\.name/)
})

test('bad arguments are ERR_SD_NOTIFY_INVALID_VALUE', async (t) => {
  await assert.rejects(sd.listen({}, {}), { code: 'ERR_SD_NOTIFY_INVALID_VALUE', name: 'TypeError' })
  await assert.rejects(sd.listen(null), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  const s = server(t)
  await assert.rejects(sd.listen(s, null), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  await assert.rejects(sd.listen(s, { name: 3 }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  await assert.rejects(sd.listen(s, { fdStore: 'yes' }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.equal(s.listening, false)
  await assertNothingArrives()
})

test("the server's own 'error' rejects (EADDRINUSE)", async (t) => {
  const taken = server(t)
  await sd.listen(taken, { port: 0, host: '127.0.0.1', fdStore: false })
  const s = server(t)
  await assert.rejects(sd.listen(s, { port: taken.address().port, host: '127.0.0.1', fdStore: true }), {
    code: 'EADDRINUSE',
  })
  await assertNothingArrives()
})

test('a name the fd store refuses rejects with ERR_SD_NOTIFY_INVALID_FDNAME and closes the server', runtimeGap(GAPS.httpFd), async (t) => {
  const s = server(t)
  await assert.rejects(sd.listen(s, { name: 'a:b', port: 0, host: '127.0.0.1', fdStore: true }), {
    code: 'ERR_SD_NOTIFY_INVALID_FDNAME',
  })
  assert.equal(s.listening, false)
  await assertNothingArrives()
})

test('a server without _handle.fd (cluster round-robin worker) cannot be stored: ERR_SD_NOTIFY_NO_SERVER_FD', async () => {
  // What a cluster worker's server looks like in round-robin mode: listening, but no real handle.
  class WorkerLikeServer extends EventEmitter {
    listen() {
      this._handle = { close() {} }
      process.nextTick(() => this.emit('listening'))
    }
    close() {
      this.closed = true
    }
  }
  const s = new WorkerLikeServer()
  await assert.rejects(sd.listen(s, { name: 'http', port: 0, fdStore: true }), (err) => {
    assert.equal(err.code, 'ERR_SD_NOTIFY_NO_SERVER_FD')
    assert.match(err.message, /server\._handle\.fd/)
    return true
  })
  assert.equal(s.closed, true)
  // Without the fd store it is fine, and says the fd is unknown.
  const s2 = new WorkerLikeServer()
  await sd.listen(s2, { name: 'http', fdStore: false })
  assert.deepEqual(sd.listenInfo(s2), { fd: null, name: 'http', inherited: false, stored: false })
  await assertNothingArrives()
})

test('listenInfo is null for servers listen() did not set up', (t) => {
  assert.equal(sd.listenInfo(server(t)), null)
  assert.equal(sd.listenInfo(null), null)
})

test('works for a plain net.Server', runtimeGap(GAPS.serverFd), async (t) => {
  const s = net.createServer((c) => c.end('hi'))
  t.after(() => s.close())
  await sd.listen(s, { name: 'raw', port: 0, host: '127.0.0.1', fdStore: true })
  assert.equal((await receive()).fields.FDNAME, 'raw')
  const c = net.connect(s.address().port, '127.0.0.1')
  const [data] = await once(c, 'data')
  assert.equal(String(data), 'hi')
})

test('a net.Server takes the passed socket by name (what Bun can do: its node:http server cannot)', runtimeGap({ deno: childGap.deno }), async () => {
  const r = await runChild({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' }, { server: 'net', calls: [], listen: [{ name: 'metrics' }] })
  assert.deepEqual(r.servers[0].info, { fd: 4, name: 'metrics', inherited: true, stored: false })
  assert.equal(r.servers[0].port, r.ports[1])
  assert.equal(r.servers[0].answered, true)
})

test("Bun's node:http server, which ignores listen({ fd }), is refused with ERR_SD_NOTIFY_NO_SERVER_FD rather than served on another port", { skip: RUNTIME !== 'bun' && 'only Bun has a server that ignores listen({ fd })' }, async () => {
  const r = await runChild({ LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' }, { calls: [], listen: [{ name: 'http' }] })
  assert.equal(r.servers[0].error.code, 'ERR_SD_NOTIFY_NO_SERVER_FD')
  assert.match(r.servers[0].error.message, /did not listen on the socket systemd passed \(fd 3\)/)
})

// A listening socket made by a Python wrapper at fd 3 of the child it then becomes: the path
// that needs no descriptor from this process, so it runs in every runtime.
const PY_SOCKET_WRAPPER = `
import os, socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1', LISTEN_FDNAMES='http', SD_TEST_PASSED_PORT=str(s.getsockname()[1]))
os.execv(sys.argv[1], sys.argv[1:])
`
const hasPython = cp.spawnSync('python3', ['-c', 'import socket']).status === 0

test('the socket systemd passed is the one served, in every runtime (Bun: with a net.Server)', { skip: !hasPython && 'needs python3 to make the socket' }, async () => {
  const plan = { server: RUNTIME === 'bun' ? 'net' : 'http', calls: [], listen: [{ name: 'http', port: 1 }] }
  const child = cp.spawn('python3', ['-c', PY_SOCKET_WRAPPER, process.execPath, CHILD, JSON.stringify(plan)], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const r = await childReport(child)
  assert.deepEqual(r.servers[0].info, { fd: 3, name: 'http', inherited: true, stored: false }, JSON.stringify(r.servers[0]))
  assert.equal(String(r.servers[0].port), r.passedPort)
  assert.equal(r.servers[0].answered, true)
})
