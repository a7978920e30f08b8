'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const path = require('node:path')
const { sd, useListener, runtimeGap } = require('./helpers')

test('barrier() resolves true once the manager closes its copy of the passed fd', async (t) => {
  const l = useListener(t)
  sd.status('one')
  sd.status('two')
  const barrier = sd.barrier(5000)
  assert.equal((await l.receive(2000)).text, 'STATUS=one')
  assert.equal((await l.receive(2000)).text, 'STATUS=two')
  const m = await l.receive(2000)
  assert.equal(m.text, 'BARRIER=1', 'BARRIER=1 travels alone')
  assert.equal(m.fds.length, 1, 'with exactly one fd')
  let settled = false
  barrier.then(() => (settled = true))
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(settled, false, 'it stays pending while the manager holds the fd')
  l.closeFds(m.fds)
  assert.equal(await barrier, true)
})

test('barrier() rejects with ETIMEDOUT when the manager never closes the fd', async (t) => {
  const l = useListener(t)
  // The rejection is awaited from the start: on a slow (emulated) machine the 200 ms can run out
  // before receive() resolves, and a rejection with no handler yet fails the run.
  const rejected = assert.rejects(sd.barrier(200), (err) => {
    assert.equal(err.code, 'ETIMEDOUT')
    assert.ok(err instanceof Error)
    assert.match(err.message, /barrier timed out after 200 ms/)
    return true
  })
  const m = await l.receive(10_000)
  t.after(() => l.closeFds(m.fds))
  await rejected
})

test('barrier() does not block the event loop while it waits', async (t) => {
  const l = useListener(t)
  const barrier = sd.barrier(5000)
  const m = await l.receive(2000)
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  await new Promise((r) => setTimeout(r, 100))
  clearInterval(timer)
  assert.ok(ticks >= 3, `timers ran ${ticks} times while the barrier waited`)
  l.closeFds(m.fds)
  assert.equal(await barrier, true)
})

test('closeFds() closes received descriptors natively, once; anything else is ERR_SD_NOTIFY_INVALID_FD and closes nothing', async (t) => {
  const l = useListener(t)
  const own = fs.openSync(__filename, 'r')
  t.after(() => fs.closeSync(own))
  sd.notify({ FDSTORE: 1 }, { fds: [own, own] })
  const { fds } = await l.receive(2000)
  const isOpen = (fd) => fs.existsSync(`/proc/self/fd/${fd}`)
  for (const bad of [[own], [fds[0], fds[0]], [fds[0], 99999]]) {
    assert.throws(() => l.closeFds(bad), { code: 'ERR_SD_NOTIFY_INVALID_FD' }, JSON.stringify(bad))
  }
  assert.ok(fds.every(isOpen) && isOpen(own), 'a refused call closes nothing')
  l.closeFds(fds)
  assert.ok(!fds.some(isOpen), 'both closed')
  assert.throws(() => l.closeFds([fds[0]]), { code: 'ERR_SD_NOTIFY_INVALID_FD' }, 'closed already')
  l.closeFds([])
})

test('closeFds() refuses a descriptor the caller closed itself, and leaves the file now at that number open', runtimeGap({ deno: 'fs.closeSync() throws EBADF on a descriptor Deno did not open itself: the test cannot close a received descriptor' }), async (t) => {
  const l = useListener(t)
  const own = fs.openSync(__filename, 'r')
  t.after(() => fs.closeSync(own))
  sd.notify({ FDSTORE: 1 }, { fds: [own] })
  const { fds } = await l.receive(2000)
  fs.closeSync(fds[0])
  // Usually the lowest free number: the one just closed, now on another file. (The same file
  // opened again at the same number is not told apart: the check compares device and inode.)
  const other = fs.openSync('/proc/self/stat', 'r')
  t.after(() => fs.closeSync(other))
  assert.throws(() => l.closeFds(fds), { code: 'ERR_SD_NOTIFY_INVALID_FD' })
  assert.ok(fs.existsSync(`/proc/self/fd/${other}`), 'the unrelated descriptor is still open')
  assert.throws(() => l.closeFds(fds), { code: 'ERR_SD_NOTIFY_INVALID_FD' }, 'forgotten')
})

test('NotifyListener.receive() rejects with ETIMEDOUT when nothing arrives', async (t) => {
  const l = useListener(t)
  await assert.rejects(l.receive(50), { code: 'ETIMEDOUT' })
})

test('NotifyListener.close() rejects a pending receive() and later ones', async () => {
  const l = new sd.NotifyListener()
  const pending = l.receive()
  l.close()
  assert.equal(l.closed, true)
  await assert.rejects(pending, { code: 'ERR_SD_NOTIFY_LISTENER_CLOSED' })
  await assert.rejects(l.receive(10), { code: 'ERR_SD_NOTIFY_LISTENER_CLOSED' })
  l.close() // idempotent
})

test('NotifyListener refuses an address that is not /path or @name', () => {
  assert.throws(() => new sd.NotifyListener('relative'), { code: 'ERR_SD_NOTIFY_INVALID_ADDRESS' })
  assert.throws(() => new sd.NotifyListener('vsock:2:1'), { code: 'ERR_SD_NOTIFY_INVALID_ADDRESS' })
})

test('NotifyListener binding an address in use fails with EADDRINUSE', (t) => {
  const a = new sd.NotifyListener()
  t.after(() => a.close())
  assert.throws(() => new sd.NotifyListener(a.address), { code: 'EADDRINUSE' })
})

test('NotifyListener reports the credentials of another process that notifies', async (t) => {
  const l = useListener(t)
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..'))}).ready('child')`], {
    env: { ...process.env, NOTIFY_SOCKET: l.address },
    stdio: 'inherit',
  })
  // Listened for now: on a loaded machine the child may exit before its datagram is read.
  const exited = new Promise((r) => child.once('exit', r))
  // A child Node.js under QEMU on a busy machine (CI builds beside the tests) took more than 5 s
  // to start: the wait is generous, and ends as soon as the datagram arrives.
  const m = await l.receive(60_000)
  assert.equal(m.text, 'READY=1\nSTATUS=child')
  assert.equal(m.pid, child.pid)
  assert.notEqual(m.pid, process.pid)
  assert.equal(await exited, 0)
})

test('NotifyListener parses fields as the manager does: \\r splits lines and the first key wins', async (t) => {
  const l = useListener(t)
  // A raw sender that does not validate (Python), to show what the manager would see.
  const py = `import socket,os
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a=os.environ['NOTIFY_SOCKET']
s.sendto(b'STATUS=first\\rSTATUS=second\\n\\nREADY=1', '\\0'+a[1:] if a[0]=='@' else a)`
  const child = spawn('python3', ['-c', py], { env: { ...process.env, NOTIFY_SOCKET: l.address }, stdio: 'inherit' })
  const exited = new Promise((r) => child.once('exit', r)) // before it can have exited
  const m = await l.receive(5000)
  assert.deepEqual(m.fields, { STATUS: 'first', READY: '1' })
  assert.equal(m.raw.toString(), 'STATUS=first\rSTATUS=second\n\nREADY=1')
  await exited
})

test('a pending receive() keeps the process alive until a message arrives, and closing releases it', async () => {
  const script = `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});
    const l = new sd.NotifyListener();
    l.receive().catch((e) => { console.log(e.code); });
    setTimeout(() => l.close(), 300).unref(); // only the pending receive() may keep the process alive`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise((r) => child.once('exit', r))
  assert.equal(code, 0)
  assert.equal(out.trim(), 'ERR_SD_NOTIFY_LISTENER_CLOSED')
})

test('watchdogEnabled() follows sd_watchdog_enabled rules', async () => {
  const run = (env) =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});
           try { console.log(JSON.stringify(sd.watchdogEnabled())) } catch (e) { console.log(e.code) }`,
        ],
        { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.once('exit', () => resolve(out.trim()))
    })
  assert.equal(await run({}), 'null')
  assert.deepEqual(JSON.parse(await run({ WATCHDOG_USEC: '3000000' })), { timeoutMs: 3000, timeoutUsec: 3000000 })
  assert.equal(await run({ WATCHDOG_USEC: '0' }), 'ERR_SD_NOTIFY_INVALID_ENV')
  assert.equal(await run({ WATCHDOG_USEC: 'soon' }), 'ERR_SD_NOTIFY_INVALID_ENV')
  assert.equal(await run({ WATCHDOG_USEC: '18446744073709551615' }), 'ERR_SD_NOTIFY_INVALID_ENV')
  assert.equal(await run({ WATCHDOG_USEC: '1000', WATCHDOG_PID: '1' }), 'null', 'another process watchdog is not ours')
  assert.equal(await run({ WATCHDOG_USEC: '1000', WATCHDOG_PID: 'x' }), 'ERR_SD_NOTIFY_INVALID_ENV')
  // WATCHDOG_PID naming this very process: `exec` keeps the shell's pid for node.
  const own = await new Promise((resolve) => {
    const child = spawn(
      '/bin/sh',
      // `deno eval` is Deno's `node -e` (only a direct spawn of process.execPath gets node's flags translated).
      ['-c', `WATCHDOG_PID=$$ exec "$0" ${process.versions.deno ? 'eval' : '-e'} 'console.log(JSON.stringify([process.pid, require(process.env.SD_TEST_PKG).watchdogEnabled()]))'`, process.execPath],
      { env: { PATH: process.env.PATH, WATCHDOG_USEC: '1000', SD_TEST_PKG: path.join(__dirname, '..') }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.once('exit', () => resolve(JSON.parse(out)))
  })
  assert.deepEqual(own[1], { timeoutMs: 1, timeoutUsec: 1000, pid: own[0] })
})

test('booted() reflects whether /run/systemd/system is a directory', () => {
  let expected = false
  try {
    expected = fs.lstatSync('/run/systemd/system').isDirectory()
  } catch {}
  assert.equal(sd.booted(), expected)
})

test('close() releases a listener descriptor at once: 2,000 open/close cycles leave none behind', () => {
  // The listener's own socket, found by its address in /proc/net/unix: a runtime opens and closes
  // sockets of its own at any time (Bun does), so a count of this process's sockets proves nothing.
  const inodeOf = (address) =>
    fs
      .readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .find((line) => line.endsWith(` ${address}`))
      ?.trim()
      .split(/\s+/)[6]
  const held = (inode) =>
    fs.readdirSync('/proc/self/fd').some((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === `socket:[${inode}]`
      } catch {
        return false // closed meanwhile (or the directory's own descriptor)
      }
    })
  for (let i = 0; i < 2000; i++) {
    const l = new sd.NotifyListener()
    const inode = inodeOf(l.address)
    assert.ok(inode && held(inode), `the open listener holds a descriptor of socket ${inode} (${l.address})`)
    l.close()
    assert.equal(held(inode), false, 'closed at once, without GC')
  }
})
