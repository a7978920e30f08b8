'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { sd, useListener, assertRefused, statFd, monotonicUsec } = require('./helpers')

test('every notification returns false and sends nothing when NOTIFY_SOCKET is unset', async () => {
  const saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET
  try {
    assert.equal(sd.available(), false)
    assert.equal(sd.ready(), false)
    assert.equal(sd.reloading('x'), false)
    assert.equal(sd.stopping(), false)
    assert.equal(sd.status('x'), false)
    assert.equal(sd.watchdog(), false)
    assert.equal(sd.watchdogTrigger(), false)
    assert.equal(sd.setWatchdogTimeout(1000), false)
    assert.equal(sd.extendTimeout(1000), false)
    assert.equal(sd.mainPid(1), false)
    assert.equal(sd.errno(2), false)
    assert.equal(sd.busError('org.example.Error'), false)
    assert.equal(sd.notify({ READY: 1 }), false)
    assert.equal(await sd.barrier(100), false)
    process.env.NOTIFY_SOCKET = ''
    assert.equal(sd.available(), false, 'an empty NOTIFY_SOCKET means no manager too')
    assert.equal(sd.ready(), false)
  } finally {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET
    else process.env.NOTIFY_SOCKET = saved
  }
})

test('a manager that re-creates its socket at the same path gets the next notification; while it is gone, sends fail with ENOENT', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdn-again-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const address = path.join(dir, 'notify')
  const first = useListener(t, address)
  assert.equal(sd.status('one'), true)
  assert.equal((await first.receive(2000)).text, 'STATUS=one')
  first.close() // removes the socket file
  assert.throws(() => sd.status('lost'), { code: 'ENOENT' })
  const second = new sd.NotifyListener(address)
  t.after(() => second.close())
  assert.equal(sd.status('two'), true)
  assert.equal((await second.receive(2000)).text, 'STATUS=two')
  // Other addresses in turn, and back: each notification reaches the one NOTIFY_SOCKET names.
  const other = new sd.NotifyListener()
  t.after(() => other.close()) // NOTIFY_SOCKET is restored by the first useListener()
  process.env.NOTIFY_SOCKET = other.address
  assert.equal(sd.status('three'), true)
  process.env.NOTIFY_SOCKET = address
  assert.equal(sd.status('four'), true)
  assert.equal((await other.receive(2000)).text, 'STATUS=three')
  assert.equal((await second.receive(2000)).text, 'STATUS=four')
})

test('ready() sends READY=1 with the sender pid, uid and gid attached by the kernel', async (t) => {
  const l = useListener(t)
  assert.equal(sd.available(), true)
  assert.equal(sd.ready(), true)
  const m = await l.receive(2000)
  assert.deepEqual(m.raw, Buffer.from('READY=1'))
  assert.equal(m.pid, process.pid)
  assert.equal(m.uid, process.getuid())
  assert.equal(m.gid, process.getgid())
  assert.deepEqual(m.fds, [])
})

test('each verb sends its exact bytes', async (t) => {
  const l = useListener(t)
  const cases = [
    [() => sd.ready('serving'), 'READY=1\nSTATUS=serving'],
    [() => sd.stopping(), 'STOPPING=1'],
    [() => sd.stopping('bye'), 'STOPPING=1\nSTATUS=bye'],
    [() => sd.status('42 connections'), 'STATUS=42 connections'],
    [() => sd.status(''), 'STATUS='],
    [() => sd.status('ünïcødé ✓'), 'STATUS=ünïcødé ✓'],
    [() => sd.watchdog(), 'WATCHDOG=1'],
    [() => sd.watchdogTrigger(), 'WATCHDOG=trigger'],
    [() => sd.setWatchdogTimeout(2500), 'WATCHDOG_USEC=2500000'],
    [() => sd.extendTimeout(3000), 'EXTEND_TIMEOUT_USEC=3000000'],
    [() => sd.mainPid(4242), 'MAINPID=4242'],
    [() => sd.errno(5), 'ERRNO=5'],
    [() => sd.busError('org.freedesktop.DBus.Error.TimedOut'), 'BUSERROR=org.freedesktop.DBus.Error.TimedOut'],
  ]
  for (const [send, expected] of cases) {
    assert.equal(send(), true)
    const m = await l.receive(2000)
    assert.equal(m.raw.toString('utf8'), expected)
  }
})

const clock = { skip: monotonicUsec() === null && `${process.execPath}: process.hrtime is not CLOCK_MONOTONIC here and /proc/timer_list is unreadable` }

test('reloading() sends RELOADING=1 and the current CLOCK_MONOTONIC in one datagram', clock, async (t) => {
  const l = useListener(t)
  const before = monotonicUsec()
  assert.equal(sd.reloading('re-reading config'), true)
  const after = monotonicUsec()
  const m = await l.receive(2000)
  const lines = m.text.split('\n')
  assert.equal(lines[0], 'RELOADING=1')
  assert.match(lines[1], /^MONOTONIC_USEC=\d+$/)
  assert.equal(lines[2], 'STATUS=re-reading config')
  const usec = BigInt(m.fields.MONOTONIC_USEC)
  assert.ok(usec >= before && usec <= after, `${usec} within [${before}, ${after}]`)
})

test('notify() sends all fields in one datagram in the given order', async (t) => {
  const l = useListener(t)
  assert.equal(
    sd.notify({ STATUS: 'warming up', X_APP_EPOCH: 7, READY: true, MAINPID: 99n, FDPOLL: false, NOTIFYACCESS: 'all' }),
    true,
  )
  const m = await l.receive(2000)
  assert.equal(m.text, 'STATUS=warming up\nX_APP_EPOCH=7\nREADY=1\nMAINPID=99\nFDPOLL=0\nNOTIFYACCESS=all')
  assert.deepEqual(m.fields, {
    STATUS: 'warming up',
    X_APP_EPOCH: '7',
    READY: '1',
    MAINPID: '99',
    FDPOLL: '0',
    NOTIFYACCESS: 'all',
  })
})

test('notify() skips undefined fields', async (t) => {
  const l = useListener(t)
  assert.equal(sd.notify({ READY: 1, STATUS: undefined }), true)
  assert.equal((await l.receive(2000)).text, 'READY=1')
})

test('notify() passes file descriptors with SCM_RIGHTS', async (t) => {
  const l = useListener(t)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdn-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'data')
  fs.writeFileSync(file, 'passed along')
  const fd = fs.openSync(file, 'r')
  t.after(() => fs.closeSync(fd))
  assert.equal(sd.notify({ FDSTORE: 1, FDNAME: 'data' }, { fds: [fd] }), true)
  const m = await l.receive(2000)
  assert.equal(m.text, 'FDSTORE=1\nFDNAME=data')
  assert.equal(m.fds.length, 1)
  assert.notEqual(m.fds[0], fd, 'the receiver gets its own descriptor')
  assert.equal(statFd(m.fds[0]).ino, fs.statSync(file).ino, 'the same file')
  l.closeFds(m.fds)
})

test('a filesystem socket path works as NOTIFY_SOCKET', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdn-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const l = useListener(t, path.join(dir, 'notify.sock'))
  assert.equal(l.address, path.join(dir, 'notify.sock'))
  assert.ok(fs.statSync(l.address).isSocket())
  assert.equal(sd.ready(), true)
  assert.equal((await l.receive(2000)).text, 'READY=1')
  l.close()
  assert.equal(fs.existsSync(path.join(dir, 'notify.sock')), false, 'close() removes the socket file')
})

test('an @abstract name works as NOTIFY_SOCKET', async (t) => {
  const name = `@sd-notify-rs-test/${process.pid}/abstract`
  const l = useListener(t, name)
  assert.equal(l.address, name)
  assert.equal(sd.status('abstract'), true)
  assert.equal((await l.receive(2000)).text, 'STATUS=abstract')
})

test('NOTIFY_SOCKET is read on every call, so changes to process.env take effect', async (t) => {
  const a = new sd.NotifyListener()
  const b = new sd.NotifyListener()
  t.after(() => {
    a.close()
    b.close()
    delete process.env.NOTIFY_SOCKET
  })
  process.env.NOTIFY_SOCKET = a.address
  assert.equal(sd.status('to a'), true)
  process.env.NOTIFY_SOCKET = b.address
  assert.equal(sd.status('to b'), true)
  delete process.env.NOTIFY_SOCKET
  assert.equal(sd.status('to nobody'), false)
  assert.equal((await a.receive(2000)).text, 'STATUS=to a')
  assert.equal((await b.receive(2000)).text, 'STATUS=to b')
  await assert.rejects(a.receive(100), { code: 'ETIMEDOUT' })
})

test('a datagram of exactly 4096 bytes is sent', async (t) => {
  const l = useListener(t)
  const status = 'x'.repeat(4096 - 'STATUS='.length)
  assert.equal(sd.status(status), true)
  const m = await l.receive(2000)
  assert.equal(m.raw.length, 4096)
})

test('a datagram of 4097 bytes is refused and nothing is sent', async (t) => {
  const l = useListener(t)
  const status = 'x'.repeat(4097 - 'STATUS='.length)
  await assertRefused(l, () => sd.status(status), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
})

test('ready(), stopping() and status() with texts around the 4096-byte limit: every length up to it is sent whole, one byte more is refused', async (t) => {
  const l = useListener(t)
  for (const [call, prefix] of [
    [sd.ready, 'READY=1\nSTATUS='],
    [sd.stopping, 'STOPPING=1\nSTATUS='],
    [sd.status, 'STATUS='],
  ]) {
    const room = 4096 - prefix.length
    // ASCII, then two-byte characters that end exactly at, one byte short of, and across the limit.
    for (const text of ['x'.repeat(room - 8), 'x'.repeat(room - 1), 'x'.repeat(room), 'é'.repeat(room / 2), 'x' + 'é'.repeat((room - 1) / 2)]) {
      if (Buffer.byteLength(prefix + text) > 4096) continue
      assert.equal(call(text), true)
      assert.equal((await l.receive(2000)).text, prefix + text, `${prefix}: ${Buffer.byteLength(text)} bytes`)
    }
    const over = room % 2 === 0 ? 'x' + 'é'.repeat(room / 2) : 'é'.repeat((room + 1) / 2)
    assert.equal(Buffer.byteLength(prefix + over), 4097)
    await assertRefused(l, () => call(over), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
  }
})

test('notify() counts every field towards the 4096-byte limit', async (t) => {
  const l = useListener(t)
  await assertRefused(l, () => sd.notify({ READY: 1, STATUS: 'y'.repeat(4090) }), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
})

test('calls from worker_threads are sent with this process credentials', async (t) => {
  const l = useListener(t)
  const worker = new Worker(
    `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});
     const { parentPort } = require('node:worker_threads');
     parentPort.postMessage([sd.status('from worker'), sd.ready()]);`,
    { eval: true, env: { NOTIFY_SOCKET: l.address } },
  )
  const [result] = await Promise.all([
    new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject)),
    new Promise((resolve) => worker.once('exit', resolve)),
  ])
  assert.deepEqual(result, [true, true])
  const texts = [(await l.receive(2000)).text, (await l.receive(2000)).text]
  assert.deepEqual(texts, ['STATUS=from worker', 'READY=1'])
})

test('concurrent sends from several workers all arrive intact', async (t) => {
  const l = useListener(t)
  const workers = [1, 2, 3].map(
    (n) =>
      new Promise((resolve, reject) => {
        const w = new Worker(
          `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});
           for (let i = 0; i < 50; i++) sd.status('w${n}-' + i);`,
          { eval: true, env: { NOTIFY_SOCKET: l.address } },
        )
        w.once('error', reject).once('exit', resolve)
      }),
  )
  // Receive while they send: the kernel queues only a few datagrams (max_dgram_qlen).
  const seen = new Set()
  for (let i = 0; i < 150; i++) seen.add((await l.receive(5000)).text)
  await Promise.all(workers)
  assert.equal(seen.size, 150)
  for (const n of [1, 2, 3]) assert.ok(seen.has(`STATUS=w${n}-49`))
})

test("a Worker reads its own process.env (a copy), under Node's lock: set there at run time, it takes effect", async (t) => {
  const l = useListener(t)
  // The main thread points elsewhere: only the Worker's own process.env leads to `l`.
  const other = new sd.NotifyListener()
  t.after(() => other.close())
  process.env.NOTIFY_SOCKET = other.address
  const worker = new Worker(
    `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});
     const { parentPort, workerData } = require('node:worker_threads');
     const before = sd.available();
     process.env.NOTIFY_SOCKET = workerData;
     parentPort.postMessage([before, sd.status('worker env'), sd.available()]);`,
    { eval: true, env: {}, workerData: l.address },
  )
  const [result] = await Promise.all([
    new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject)),
    new Promise((resolve) => worker.once('exit', resolve)),
  ])
  assert.deepEqual(result, [false, true, true], 'unset in the Worker at first, then its own value')
  assert.equal((await l.receive(2000)).text, 'STATUS=worker env')
  await assert.rejects(other.receive(200), { code: 'ETIMEDOUT' }, 'nothing went to the main thread’s address')
})
