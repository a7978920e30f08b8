'use strict'
// Hostile peers and leaks (issue 23, items 6-8): a stranger's descriptors, Workers that end while
// they wait, thousands of pending waits, a notification behind the watchdog on a full queue.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, execFileSync } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const sd = require('..')
const { runtimeGap, GAPS } = require('./helpers')
const { JournalListener } = sd

const fdCount = () => fs.readdirSync('/proc/self/fd').length
/** Whether a descriptor of this process is the file `identity` (`dev:ino`) names. */
const holds = (identity) =>
  fs.readdirSync('/proc/self/fd').some((fd) => {
    try {
      const st = fs.statSync(`/proc/self/fd/${fd}`, { bigint: true })
      return `${st.dev}:${st.ino}` === identity
    } catch {
      return false // the directory's own descriptor, closed by now
    }
  })
const threadCount = () => fs.readdirSync('/proc/self/task').length
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups']
const isRoot = process.getuid?.() === 0
// The system's python3: a per-user install (pyenv's shims under /root) is out of uid 65534's reach.
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => fs.existsSync(p)) ?? 'python3'

/** Retries `check` (the OS releases a terminated thread a little later) before asserting it. */
async function eventually(check, message) {
  for (let i = 0; i < 100 && !check(); i++) await sleep(50)
  assert.ok(check(), message())
}

/**
 * Runs the hostile sender as uid 65534; resolves once it has sent, with a way to end it and the
 * passed descriptor's `dev:ino`.
 */
function stranger(address, kind, payload) {
  const child = spawn('setpriv', [...NOBODY, PYTHON, path.join(__dirname, 'fixtures/hostile-sender.py'), address, kind, payload], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`the hostile sender exited with ${code} before sending`)))
    // Ending it waits for its pipes to close: they are descriptors of this process too.
    const closed = new Promise((r) => child.once('close', r))
    child.stdout.once('data', (line) => {
      const end = () => child.kill('SIGKILL') && closed
      end.passed = /^sent (\d+:\d+)/.exec(String(line))?.[1]
      resolve(end)
    })
  })
}

const KINDS = ['devzero', 'pipe', 'socket', 'unsealed-memfd', 'oversized-memfd']

test('JournalListener refuses, closes and reports what a stranger passes instead of reading it', { skip: !isRoot && 'needs root for setpriv', timeout: 60_000 }, async (t) => {
  const l = new JournalListener(null, { maxEntryBytes: 1 << 20 })
  t.after(() => l.close())
  // Warm-up: the poller thread and whatever the runtime opens on first use exist before the count.
  await assert.rejects(l.receive(1), { code: 'ETIMEDOUT' })
  const fds = fdCount()
  const rss = process.memoryUsage().rss
  for (const kind of KINDS) {
    const end = await stranger(l.address, kind, '')
    try {
      // Settles (whatever the sender does), refusing with a stable code and the reason.
      await assert.rejects(l.receive(10_000), (err) => {
        assert.equal(err.code, 'ERR_SD_NOTIFY_INVALID_FD', `${kind}: ${err.message}`)
        assert.match(err.message, /refused the descriptor passed by pid \d+ \(uid 65534\)/)
        return true
      }, kind)
    } finally {
      await end()
    }
    assert.ok(end.passed, kind)
    assert.equal(holds(end.passed), false, `${kind}: the descriptor was closed`)
    // Nothing else was left open either. Bun closes the pipe of a child it spawned a little after
    // the child's 'close' (its own descriptor, not one of ours): the count may take a moment.
    await eventually(() => fdCount() === fds, () => `${kind}: ${fdCount()} descriptors, ${fds} before`)
  }
  assert.ok(process.memoryUsage().rss - rss < 256 * 2 ** 20, 'nothing was read into memory')
  // A sealed memfd within the cap is still an entry.
  const end = await stranger(l.address, 'sealed-memfd', '')
  const entry = await l.receive(10_000)
  await end()
  assert.equal(entry.fields.MESSAGE, 'from a stranger')
  assert.equal(entry.uid, 65534)
  assert.equal(holds(end.passed), false, 'the sealed memfd was closed once read')
  await eventually(() => fdCount() === fds, () => `${fdCount()} descriptors, ${fds} before`)
})

test('NotifyListener({ uid }) drops other senders\' datagrams and closes what they carry', { skip: !isRoot && 'needs root for setpriv', timeout: 60_000 }, async (t) => {
  const l = new sd.NotifyListener(null, { uid: process.getuid() })
  t.after(() => l.close())
  await assert.rejects(l.receive(1), { code: 'ETIMEDOUT' })
  const fds = fdCount()
  for (const [i, kind] of KINDS.entries()) {
    const end = await stranger(l.address, kind, 'FDSTORE=1')
    try {
      await assert.rejects(l.receive(200), { code: 'ETIMEDOUT' }, `${kind} is not heard`)
    } finally {
      await end()
    }
    assert.equal(l.refused, i + 1)
    assert.ok(end.passed, kind)
    assert.equal(holds(end.passed), false, `${kind}: the stranger's descriptor was closed`)
    await eventually(() => fdCount() === fds, () => `${kind}: ${fdCount()} descriptors, ${fds} before`)
  }
  // The listener's own uid is still heard.
  process.env.NOTIFY_SOCKET = l.address
  t.after(() => delete process.env.NOTIFY_SOCKET)
  sd.status('own')
  assert.equal((await l.receive(2000)).text, 'STATUS=own')
})

test('a journal datagram with descriptors beside its text: they are closed, whether the entry is read or refused', async (t) => {
  const l = new JournalListener()
  t.after(() => l.close())
  // The descriptors this process keeps open, first: the poller's and the notify socket's.
  await assert.rejects(l.receive(1), { code: 'ETIMEDOUT' })
  process.env.NOTIFY_SOCKET = l.address
  t.after(() => delete process.env.NOTIFY_SOCKET)
  assert.equal(sd.status('warm'), true)
  await assert.rejects(l.receive(2000), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' }) // no final newline
  const fds = fdCount()
  // Ten well-formed entries, each with a descriptor (not the journal's protocol, whose only
  // descriptor is a memfd sent with an empty datagram), from another process.
  const send = `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
f = open('/dev/null')
for i in range(10):
    s.sendmsg([b'MESSAGE=n%d\\n' % i], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, f.fileno().to_bytes(4, sys.byteorder))], 0, sys.argv[1].replace('@', '\\0', 1))`
  execFileSync(PYTHON, ['-c', send, l.address])
  for (let i = 0; i < 10; i++) {
    const entry = await l.receive(2000)
    assert.equal(entry.fields.MESSAGE, `n${i}`)
    assert.equal(entry.memfd, false)
  }
  // Ten that are not journal entries at all: fdStore()'s FDSTORE=1 and FDNAME= lines, with no
  // final newline, and the descriptor.
  const file = fs.openSync('/dev/null', 'r')
  for (let i = 0; i < 10; i++) {
    assert.equal(sd.fdStore(file, { name: `n${i}` }), true)
    await assert.rejects(l.receive(2000), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  }
  fs.closeSync(file)
  await eventually(() => fdCount() === fds, () => `${fdCount() - fds} of the 20 passed descriptors left open`)
})

test('a datagram whose descriptors do not all fit (the receiver at its descriptor limit): refused with ENOBUFS, and the ones that arrived closed', { skip: !fs.existsSync('/usr/bin/prlimit') && 'needs prlimit(1)', timeout: 60_000 }, async () => {
  // A child at RLIMIT_NOFILE with room for 2 more descriptors; a sender passes 5. The kernel
  // installs 2, sets MSG_CTRUNC, and the control data can no longer be read as a whole.
  const child = `const sd = require(${JSON.stringify(path.join(__dirname, '..'))})
    const fs = require('node:fs')
    const count = () => fs.readdirSync('/proc/self/fd').length
    const l = new sd.NotifyListener()
    ;(async () => {
      await l.receive(1).catch(() => {}) // the poller's descriptors, first
      process.stdout.write('started\\n') // and stdout's (a pipe's) set up
      const before = count()
      const fillers = []
      try { for (;;) fillers.push(fs.openSync('/dev/null', 'r')) } catch (e) { if (e.code !== 'EMFILE') throw e }
      fs.closeSync(fillers.pop())
      fs.closeSync(fillers.pop())
      process.stdout.write(l.address + '\\n')
      const outcome = await l.receive(10000).then((m) => 'received ' + m.fds.length, (e) => e.code)
      for (const fd of fillers) fs.closeSync(fd)
      process.stdout.write(JSON.stringify({ outcome, left: count() - before }) + '\\n')
      l.close()
    })()`
  const receiver = spawn('/usr/bin/prlimit', ['--nofile=128:128', '--', process.execPath, '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = []
  const next = () =>
    new Promise((resolve, reject) => {
      const take = () => (lines.length ? resolve(lines.shift()) : receiver.stdout.once('data', (d) => (lines.push(...String(d).split('\n').filter(Boolean)), take())))
      receiver.once('exit', (code) => reject(new Error(`the receiver exited with ${code}`)))
      take()
    })
  assert.equal(await next(), 'started')
  const address = await next()
  const send = `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
f = [open('/dev/null') for _ in range(5)]
s.sendmsg([b'FDSTORE=1'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, b''.join(x.fileno().to_bytes(4, sys.byteorder) for x in f))], 0, sys.argv[1].replace('@', '\\0', 1))`
  execFileSync(PYTHON, ['-c', send, address])
  const result = JSON.parse(await next())
  assert.deepEqual(result, { outcome: 'ENOBUFS', left: 0 })
})

test('listener options are own properties, checked', () => {
  const polluted = Object.create({ uid: 12345 })
  const l = new sd.NotifyListener(null, polluted)
  l.close()
  assert.throws(() => new sd.NotifyListener(null, { uid: -1 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => new sd.NotifyListener(null, { uid: 2 ** 32 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => new JournalListener(null, { maxEntryBytes: 1.5 }), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
})

test('Workers terminated while receive() and barrier() wait leave no descriptor, thread or name behind', { timeout: 60_000, ...runtimeGap(GAPS.workerTeardown) }, async (t) => {
  const manager = new sd.NotifyListener()
  t.after(() => manager.close())
  process.env.NOTIFY_SOCKET = manager.address
  t.after(() => delete process.env.NOTIFY_SOCKET)
  // Warm-up: one Worker's worth of runtime threads and the poller exist before the counts.
  await assert.rejects(manager.receive(1), { code: 'ETIMEDOUT' })
  const warm = new Worker(path.join(__dirname, 'fixtures/receive-in-worker.js'))
  await new Promise((r) => warm.once('message', r))
  await warm.terminate()
  for (;;) {
    const m = await manager.receive(200).catch(() => null)
    if (!m) break
    manager.closeFds(m.fds)
  }
  const fds = fdCount()
  const threads = threadCount()
  // Pending before the Workers send, so that their 20 BARRIER=1 never fill the queue.
  const barriers = Array.from({ length: 20 }, () => manager.receive(30_000))
  const workers = Array.from(
    { length: 20 },
    (_, i) => new Worker(path.join(__dirname, 'fixtures/receive-in-worker.js'), { workerData: { barrierOnly: i % 2 === 1 } }),
  )
  const addresses = await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))))
  // The manager's copies of the barriers' fds are closed: only the Workers' own waits hold anything.
  for (const m of await Promise.all(barriers)) manager.closeFds(m.fds)
  await Promise.all(workers.map((w) => w.terminate()))
  await eventually(() => fdCount() <= fds, () => `${fdCount() - fds} descriptors left behind`)
  await eventually(() => threadCount() <= threads, () => `${threadCount() - threads} threads left behind`)
  const names = fs.readFileSync('/proc/net/unix', 'utf8')
  for (const a of addresses.filter(Boolean)) assert.ok(!names.includes(a), `${a} is still bound`)
})

test('3,000 pending receive() and barrier() calls share one poller thread', { timeout: 120_000 }, async (t) => {
  const l = new sd.NotifyListener()
  t.after(() => l.close())
  process.env.NOTIFY_SOCKET = l.address
  t.after(() => delete process.env.NOTIFY_SOCKET)
  await assert.rejects(l.receive(1), { code: 'ETIMEDOUT' })
  const threads = threadCount()
  const receives = Array.from({ length: 3000 }, () => l.receive())
  // Each BARRIER=1 is taken off the socket by a pending receive(), so the queue never fills.
  const barriers = Array.from({ length: 3000 }, () => sd.barrier(600_000))
  assert.ok(threadCount() <= threads + 1, `${threadCount() - threads} more threads for 6,000 waits`)
  const messages = await Promise.all(receives)
  assert.ok(messages.every((m) => m.text === 'BARRIER=1' && m.fds.length === 1))
  for (const m of messages) l.closeFds(m.fds)
  assert.deepEqual(new Set(await Promise.all(barriers)), new Set([true]))
  assert.ok(threadCount() <= threads + 1)
})

test('a notification behind the watchdog\'s ping on a full queue waits its own 5 s, not 10', { skip: !isRoot && 'reads max_dgram_qlen', timeout: 60_000 }, async (t) => {
  // Never reads: the queue fills at max_dgram_qlen.
  const l = new sd.NotifyListener()
  t.after(() => l.close())
  const env = { ...process.env, NOTIFY_SOCKET: l.address, WATCHDOG_USEC: '200000' }
  delete env.WATCHDOG_PID
  const out = execFileSync(process.execPath, [path.join(__dirname, 'fixtures/notify-behind-watchdog.js')], { env, encoding: 'utf8' })
  const { code, ms, requests } = JSON.parse(out)
  assert.equal(code, 'EAGAIN')
  assert.ok(requests >= 1, 'the watchdog was pinging')
  // 5 s is the documented bound; the old code took the ping's remaining wait (about 4.5 s) on top.
  assert.ok(ms < 7500, `the notification waited ${Math.round(ms)} ms`)
})

test('a vsock-stream notification whose peer never answers blocks for its 500 ms bound, not connect()\'s 2 s', (t) => {
  const previous = process.env.NOTIFY_SOCKET
  // CID 1, the local host: with no vsock service listening, connect() alone waits 2 s.
  process.env.NOTIFY_SOCKET = 'vsock-stream:1:9'
  t.after(() => (previous === undefined ? delete process.env.NOTIFY_SOCKET : (process.env.NOTIFY_SOCKET = previous)))
  let error = null
  try {
    sd.ready()
  } catch (err) {
    error = err
  }
  // Without AF_VSOCK (ENODEV, EAFNOSUPPORT, ...) it fails at once: nothing to bound.
  if (error?.code !== 'ETIMEDOUT') return t.diagnostic(`no vsock wait here: ${error?.code ?? 'sent'}`)
  assert.match(error.message, /timed out after 500 ms \(the bound on a vsock notification/)
})
