'use strict'

// fdStore()/fdStoreRemove() against a NotifyListener standing in for systemd: the exact fields,
// the descriptor that arrives (the same socket: same inode, and it serves), and every refusal,
// with its code and nothing arriving.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const { once } = require('node:events')
const { sd, useFileListener, statFd, runtimeGap, GAPS } = require('./helpers')

const manager = useFileListener()
const { receive, assertNothingArrives } = manager

/** A listening server, closed when test t ends (even when it fails). */
async function listeningServer(t, handler = (req, res) => res.end('ok')) {
  const server = http.createServer(handler)
  t.after(() => server.close())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

function get(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(body))
      })
      .on('error', reject)
  })
}

test('fdStore sends FDSTORE=1, FDNAME and FDPOLL=0 with the socket itself', runtimeGap(GAPS.httpFd), async (t) => {
  const server = await listeningServer(t)
  const fd = server._handle.fd
  assert.equal(sd.fdStore(fd, { name: 'http', poll: false }), true)
  const m = await receive()
  assert.equal(m.text, 'FDSTORE=1\nFDNAME=http\nFDPOLL=0')
  assert.deepEqual(m.fields, { FDSTORE: '1', FDNAME: 'http', FDPOLL: '0' })
  assert.equal(m.fds.length, 1)
  assert.notEqual(m.fds[0], fd, 'a new descriptor for the same socket')
  assert.equal(fs.fstatSync(m.fds[0]).ino, fs.fstatSync(fd).ino)
  assert.equal(m.pid, process.pid)
})

test('the stored descriptor keeps the socket listening after the server closes, and serves', runtimeGap(GAPS.httpFd), async (t) => {
  const first = await listeningServer(t, (req, res) => res.end('first'))
  const { port } = first.address()
  sd.fdStore(first._handle.fd, { name: 'http' })
  const m = await receive()
  const [stored] = manager.received.splice(0) // the second server owns it now
  first.close()
  await once(first, 'close')
  // What the next process of a service does with the fd systemd hands back.
  const second = http.createServer((req, res) => res.end('second'))
  t.after(() => second.close())
  second.listen({ fd: stored })
  await once(second, 'listening')
  assert.equal(m.fields.FDNAME, 'http')
  assert.equal(await get(port), 'second')
})

test('fdStore without options sends FDSTORE=1 alone (systemd names it "stored")', runtimeGap(GAPS.httpFd), async (t) => {
  const server = await listeningServer(t)
  assert.equal(sd.fdStore(server._handle.fd), true)
  const m = await receive()
  assert.equal(m.text, 'FDSTORE=1')
  assert.equal(m.fds.length, 1)
})

test('fdStore with poll: true sends no FDPOLL (polling is systemd\'s default)', runtimeGap(GAPS.httpFd), async (t) => {
  const server = await listeningServer(t)
  sd.fdStore(server._handle.fd, { name: 'x', poll: true })
  assert.equal((await receive()).text, 'FDSTORE=1\nFDNAME=x')
})

test('fdStore takes any descriptor, not only sockets', async () => {
  const fd = fs.openSync(__filename, 'r')
  try {
    sd.fdStore(fd, { name: 'config' })
    const m = await receive()
    assert.equal(statFd(m.fds[0]).ino, fs.fstatSync(fd).ino)
  } finally {
    fs.closeSync(fd)
  }
})

test('fdStoreRemove sends FDSTOREREMOVE=1 and FDNAME, with no descriptor', async () => {
  assert.equal(sd.fdStoreRemove('http'), true)
  const m = await receive()
  assert.equal(m.text, 'FDSTOREREMOVE=1\nFDNAME=http')
  assert.deepEqual(m.fds, [])
})

const BAD_NAMES = [
  ['', 'empty'],
  ['a'.repeat(256), 'longer than 255'],
  ['a:b', "':'"],
  ['tab\there', 'control character'],
  ['line\nFDSTOREREMOVE=1', 'newline'],
  ['nul\0', 'NUL'],
  ['ünïcode', 'not ASCII'],
]

test('names systemd would refuse are ERR_SD_NOTIFY_INVALID_FDNAME and nothing is sent', async (t) => {
  const fd = fs.openSync(__filename, 'r') // any descriptor: the name is refused before it is looked at
  t.after(() => fs.closeSync(fd))
  for (const [name, why] of BAD_NAMES) {
    assert.throws(() => sd.fdStore(fd, { name }), { code: 'ERR_SD_NOTIFY_INVALID_FDNAME' }, why)
    assert.throws(() => sd.fdStoreRemove(name), { code: 'ERR_SD_NOTIFY_INVALID_FDNAME' }, why)
  }
  await assertNothingArrives()
  // The longest legal name passes.
  assert.equal(sd.fdStoreRemove('a'.repeat(255)), true)
  assert.equal((await receive()).fields.FDNAME, 'a'.repeat(255))
})

test('bad descriptors are ERR_SD_NOTIFY_INVALID_FD and nothing is sent', async () => {
  const closed = fs.openSync(__filename, 'r')
  fs.closeSync(closed)
  for (const fd of [-1, 1.5, NaN, Infinity, 2 ** 31, closed]) {
    assert.throws(() => sd.fdStore(fd, { name: 'x' }), { code: 'ERR_SD_NOTIFY_INVALID_FD' }, String(fd))
  }
  await assertNothingArrives()
})

test('not under a manager: false, but bad input still throws', async (t) => {
  const saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET
  try {
    const fd = fs.openSync(__filename, 'r')
    t.after(() => fs.closeSync(fd))
    assert.equal(sd.fdStore(fd, { name: 'http' }), false)
    assert.equal(sd.fdStoreRemove('http'), false)
    assert.throws(() => sd.fdStore(-1), { code: 'ERR_SD_NOTIFY_INVALID_FD' })
    assert.throws(() => sd.fdStore(fd, { name: 'a:b' }), { code: 'ERR_SD_NOTIFY_INVALID_FDNAME' })
    assert.throws(() => sd.fdStoreRemove(''), { code: 'ERR_SD_NOTIFY_INVALID_FDNAME' })
  } finally {
    process.env.NOTIFY_SOCKET = saved
  }
  await assertNothingArrives()
})

test('a net.Server fd works the same as an http.Server fd', runtimeGap(GAPS.serverFd), async (t) => {
  const server = net.createServer()
  t.after(() => server.close())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  sd.fdStore(server._handle.fd, { name: 'raw' })
  const m = await receive()
  assert.equal(fs.fstatSync(m.fds[0]).ino, fs.fstatSync(server._handle.fd).ino)
})
