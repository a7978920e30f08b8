'use strict'

// listenFds(): every rule of sd_listen_fds_with_names, proven in child processes that really
// inherit descriptors at 3 and 4 (two listening sockets of ours) and crafted LISTEN_* variables.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { childReport, runtimeGap, GAPS } = require('./helpers')

const CHILD = path.join(__dirname, 'fixtures', 'listen-fds-child.js')

// LISTEN_PID=self becomes the child's own pid: $$ is the shell's pid, which exec keeps.
const SH_WRAPPER = 'if [ "${LISTEN_PID-}" = self ]; then export LISTEN_PID=$$; fi; exec "$@"'

// The same in Python, which can also compute LISTEN_PIDFDID: the inode id of a pidfd of this
// process (stable across exec), plus an offset to make it wrong on purpose ("self+1").
// SD_TEST_PIDFS says whether pidfds have per-process inodes here (pidfs, Linux >= 6.9).
const PY_WRAPPER = `
import os, sys
pid = os.getpid()
os.environ['LISTEN_PID'] = str(pid)
own = os.pidfd_open(pid)
parent = os.pidfd_open(os.getppid())
ino = os.fstat(own).st_ino
os.environ['SD_TEST_PIDFS'] = '1' if ino != os.fstat(parent).st_ino else '0'
os.close(own)
os.close(parent)
spec = os.environ.get('LISTEN_PIDFDID', '')
if spec.startswith('self'):
    os.environ['LISTEN_PIDFDID'] = str(ino + int(spec[4:] or 0))
os.execv(sys.argv[1], sys.argv[1:])
`

let sockets = []
let passed = [] // the descriptors (in this process) the children get at 3 and 4
let inodes = []

before(async () => {
  sockets = [net.createServer(), net.createServer()]
  await Promise.all(sockets.map((s) => new Promise((resolve) => s.listen(0, '127.0.0.1', resolve))))
  passed = sockets.map((s) => s._handle.fd)
  // Where servers hide their descriptor (GAPS.serverFd) nothing real is passed at 3 and 4.
  inodes = passed.map((fd) => (fd === undefined ? undefined : fs.fstatSync(fd).ino))
})

after(() => {
  for (const s of sockets) s.close()
})

/**
 * Runs the child with `env` (nothing inherited from us but PATH), fds 3 and 4, and `plan`;
 * resolves with its report. `python` selects the wrapper that can set LISTEN_PIDFDID.
 */
function runChild({ env = {}, plan = {}, python = false, fds = passed } = {}) {
  const argv = [process.execPath, CHILD, JSON.stringify(plan)]
  const [cmd, args] = python ? ['python3', ['-c', PY_WRAPPER, ...argv]] : ['/bin/sh', ['-c', SH_WRAPPER, 'sh', ...argv]]
  return childReport(cp.spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...fds] }))
}

const hasPython = cp.spawnSync('python3', ['-c', 'import os; os.pidfd_open']).status === 0

test('without LISTEN_PID and LISTEN_FDS nothing was passed: []', async () => {
  const r = await runChild()
  assert.deepEqual(r.calls, [{ value: [] }])
})

test('LISTEN_FDS without LISTEN_PID is not for us: []', async () => {
  const r = await runChild({ env: { LISTEN_FDS: '2' } })
  assert.deepEqual(r.calls, [{ value: [] }])
})

test('LISTEN_PID without LISTEN_FDS: []', async () => {
  const r = await runChild({ env: { LISTEN_PID: 'self' } })
  assert.deepEqual(r.calls, [{ value: [] }])
})

test("another process's LISTEN_PID means the fds are not ours: []", async () => {
  const r = await runChild({ env: { LISTEN_PID: '1', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' } })
  assert.deepEqual(r.calls, [{ value: [] }])
})

test('our LISTEN_PID: fds 3.. with names defaulting to unknown, the very sockets passed', runtimeGap(GAPS.serverFd), async () => {
  const r = await runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '2' } })
  assert.deepEqual(r.calls, [
    {
      value: [
        { fd: 3, name: 'unknown', taken: false },
        { fd: 4, name: 'unknown', taken: false },
      ],
    },
  ])
  assert.deepEqual([r.after[3].ino, r.after[4].ino], inodes)
})

test('names come from LISTEN_FDNAMES in order', async () => {
  const r = await runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' } })
  assert.deepEqual(r.calls[0].value.map((f) => [f.fd, f.name]), [
    [3, 'http'],
    [4, 'metrics'],
  ])
})

// Node itself marks the descriptors it inherits close-on-exec at start-up (libuv's
// uv_disable_stdio_inheritance, fds 0..15 and on until the first gap), so in a Node child this
// proves the postcondition; the flag flip itself is proven by the Rust unit tests.
test('close-on-exec is set on every passed fd, and they are still open and the same sockets', runtimeGap(GAPS.serverFd), async () => {
  const r = await runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '2' } })
  assert.equal(r.calls[0].value.length, 2)
  assert.deepEqual([r.after[3].cloexec, r.after[4].cloexec], [true, true])
  assert.deepEqual([r.after[3].ino, r.after[4].ino], inodes)
})

test('only the LISTEN_FDS count is handed out: LISTEN_FDS=1 gives fd 3 alone', async () => {
  const r = await runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '1' } })
  assert.deepEqual(r.calls[0].value, [{ fd: 3, name: 'unknown', taken: false }])
})

test('malformed numbers are ERR_SD_NOTIFY_INVALID_ENV', async () => {
  const cases = [
    { LISTEN_PID: 'abc', LISTEN_FDS: '1' },
    { LISTEN_PID: '0', LISTEN_FDS: '1' },
    { LISTEN_PID: '-5', LISTEN_FDS: '1' },
    { LISTEN_PID: '', LISTEN_FDS: '1' },
    { LISTEN_PID: 'self', LISTEN_FDS: '0' },
    { LISTEN_PID: 'self', LISTEN_FDS: '-1' },
    { LISTEN_PID: 'self', LISTEN_FDS: 'two' },
    { LISTEN_PID: 'self', LISTEN_FDS: '1.0' },
    { LISTEN_PID: 'self', LISTEN_FDS: '2147483645' },
    { LISTEN_PID: 'self', LISTEN_FDS: '99999999999999999999' },
    { LISTEN_PID: 'self', LISTEN_PIDFDID: 'abc', LISTEN_FDS: '1' },
  ]
  const reports = await Promise.all(cases.map((env) => runChild({ env })))
  reports.forEach((r, i) => {
    assert.equal(r.calls[0].error?.code, 'ERR_SD_NOTIFY_INVALID_ENV', JSON.stringify(cases[i]))
    assert.match(r.calls[0].error.message, /LISTEN_(PID|FDS|PIDFDID)/)
  })
})

test('a LISTEN_FDNAMES count that differs from LISTEN_FDS is ERR_SD_NOTIFY_INVALID_ENV', async () => {
  const reports = await Promise.all(
    ['http', 'a:b:c', ''].map((names) => runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: names } })),
  )
  for (const r of reports) {
    assert.equal(r.calls[0].error?.code, 'ERR_SD_NOTIFY_INVALID_ENV')
    assert.match(r.calls[0].error.message, /LISTEN_FDNAMES.*LISTEN_FDS=2/)
  }
})

test('LISTEN_FDS promising a descriptor that is not open is EBADF', async () => {
  // fds 3 and 4 are ours, 5.. are Node's own: 1000 reaches past them.
  const r = await runChild({ env: { LISTEN_PID: 'self', LISTEN_FDS: '1000' } })
  assert.equal(r.calls[0].error?.code, 'EBADF')
})

test('without unsetEnvironment the variables stay, for us and for children', async () => {
  const env = { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' }
  const r = await runChild({ env })
  assert.deepEqual(Object.keys(r.env).sort(), ['LISTEN_FDNAMES', 'LISTEN_FDS', 'LISTEN_PID'])
  assert.equal(r.env.LISTEN_PID, String(r.pid))
  assert.deepEqual(r.inheritedEnv, r.env)
})

test('unsetEnvironment removes the variables from process.env and from what children inherit', async () => {
  const env = { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' }
  const r = await runChild({ env, plan: { calls: [{ unsetEnvironment: true }] } })
  assert.equal(r.calls[0].value.length, 2)
  assert.deepEqual(r.env, {})
  assert.deepEqual(r.inheritedEnv, {})
})

test('unsetEnvironment unsets even when the variables are malformed (like libsystemd)', async () => {
  const env = { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: 'only-one' }
  const r = await runChild({ env, plan: { calls: [{ unsetEnvironment: true }] } })
  assert.equal(r.calls[0].error?.code, 'ERR_SD_NOTIFY_INVALID_ENV')
  assert.deepEqual(r.env, {})
  assert.deepEqual(r.inheritedEnv, {})
})

test('a second call returns the same fds flagged taken, even after the variables were unset', async () => {
  const env = { LISTEN_PID: 'self', LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:metrics' }
  const r = await runChild({ env, plan: { calls: [{ unsetEnvironment: true }, undefined, {}] } })
  const first = r.calls[0].value
  assert.deepEqual(first.map((f) => f.taken), [false, false])
  for (const later of r.calls.slice(1)) {
    assert.deepEqual(later.value, first.map((f) => ({ ...f, taken: true })))
  }
})

test('a call that found nothing does not count as taking: [] stays [] without errors', async () => {
  const r = await runChild({ env: { LISTEN_PID: '1', LISTEN_FDS: '2' }, plan: { calls: [undefined, undefined] } })
  assert.deepEqual(r.calls, [{ value: [] }, { value: [] }])
})

test('LISTEN_PIDFDID equal to our pidfd inode id: the fds are ours', { skip: !hasPython && 'needs python3 with os.pidfd_open' }, async () => {
  const r = await runChild({ env: { LISTEN_PIDFDID: 'self', LISTEN_FDS: '2' }, python: true })
  assert.equal(r.calls[0].value?.length, 2, JSON.stringify(r.calls[0]))
  assert.match(r.env.LISTEN_PIDFDID, /^\d+$/)
})

test('LISTEN_PIDFDID of another process (a recycled pid) means []', { skip: !hasPython && 'needs python3 with os.pidfd_open' }, async (t) => {
  const r = await runChild({ env: { LISTEN_PIDFDID: 'self+1', LISTEN_FDS: '2' }, python: true })
  if (r.pidfs !== '1') {
    // Before pidfs every pidfd shares one inode: the id cannot be compared, and is ignored.
    t.diagnostic('pidfds have no per-process inode here: LISTEN_PIDFDID is parsed but not compared')
    assert.equal(r.calls[0].value?.length, 2)
    return
  }
  assert.deepEqual(r.calls, [{ value: [] }])
})
