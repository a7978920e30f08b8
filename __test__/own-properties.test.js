'use strict'
// Prototype pollution anywhere in a dependency tree must not reach the service manager: every
// object the package reads (notify()'s fields, the options of notify(), fdStore(), listenFds()
// and startWatchdog()) is read by its own enumerable properties only. Each case runs in a child
// process, whose Object.prototype the test pollutes, and a NotifyListener sees what was sent.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const path = require('node:path')

const api = require('..')

const ROOT = path.join(__dirname, '..')

/** Runs `script` with `sd` loaded in a child with `env` added (undefined: removed); returns its stdout, parsed. */
function child(script, env = {}) {
  const full = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k]
  const r = cp.spawnSync(process.execPath, ['-e', `const sd = require(${JSON.stringify(ROOT)});\n${script}`], {
    env: full,
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

async function withListener(t) {
  const listener = new api.NotifyListener()
  t.after(() => listener.close())
  return listener
}

test('notify() sends the fields of the object, not the ones its prototype inherited', async (t) => {
  const listener = await withListener(t)
  child(
    `Object.prototype.MAINPID = 1
    Object.prototype.READY = 1
    console.log(JSON.stringify(sd.notify({ STATUS: 'hello' })))`,
    { NOTIFY_SOCKET: listener.address },
  )
  const message = await listener.receive(10_000)
  assert.equal(message.raw.toString(), 'STATUS=hello')
})

test('a field that is an own property is sent even when the prototype holds one of the same name', async (t) => {
  const listener = await withListener(t)
  child(`Object.prototype.STATUS = 'polluted'; console.log(JSON.stringify(sd.notify({ STATUS: 'mine', X_A: 1 })))`, { NOTIFY_SOCKET: listener.address })
  assert.equal((await listener.receive(10_000)).raw.toString(), 'STATUS=mine\nX_A=1')
})

test("notify()'s and fdStore()'s options take no inherited fds, name or poll", async (t) => {
  const listener = await withListener(t)
  child(
    `Object.prototype.fds = [0]
    Object.prototype.name = 'polluted'
    Object.prototype.poll = false
    sd.notify({ READY: 1 }, {})
    sd.fdStore(0, {})
    console.log('true')`,
    { NOTIFY_SOCKET: listener.address },
  )
  const first = await listener.receive(10_000)
  assert.equal(first.raw.toString(), 'READY=1')
  assert.deepEqual(first.fds, [])
  const stored = await listener.receive(10_000)
  listener.closeFds(stored.fds)
  assert.equal(stored.raw.toString(), 'FDSTORE=1', 'no FDNAME= nor FDPOLL=0 from the prototype')
})

test('listenFds() does not take an inherited unsetEnvironment', () => {
  // LISTEN_PID is the child's own pid (set by the shell that execs node), so the call is real.
  const script = `Object.prototype.unsetEnvironment = true
    const fds = sd.listenFds({})
    console.log(JSON.stringify({ fds: fds.map((f) => f.fd), left: process.env.LISTEN_FDS ?? null }))`
  const r = cp.spawnSync('sh', ['-c', 'export LISTEN_PID=$$; exec "$@"', 'sh', process.execPath, '-e', `const sd = require(${JSON.stringify(ROOT)});\n${script}`], {
    env: { ...process.env, LISTEN_FDS: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { fds: [3], left: '1' })
})

test('startWatchdog() does not take an inherited intervalMs', () => {
  const out = child(
    `Object.prototype.intervalMs = 100
    const w = sd.startWatchdog({})
    const intervalMs = w.intervalMs
    w.stop()
    console.log(JSON.stringify({ intervalMs }))`,
    { NOTIFY_SOCKET: '@sd-notify-rs-own-properties-nobody', WATCHDOG_USEC: '10000000', WATCHDOG_PID: undefined },
  )
  assert.deepEqual(out, { intervalMs: 5000 })
})
