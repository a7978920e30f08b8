'use strict'
// Every public function, constructor and method, called with arguments of the wrong type: what
// it throws (or rejects with) carries a code of the README's error table, never napi-rs's own
// status (`NumberExpected`, `StringExpected`, ...) nor a bare TypeError of V8's.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const api = require('..')

const README_CODES = new Set(
  [...fs.readFileSync(path.join(__dirname, '..', 'docs', 'errors.md'), 'utf8').split('\n## Errors\n')[1].split('\n## ')[0].matchAll(/^\| `(ERR_SD_NOTIFY_[A-Z_]+|ETIMEDOUT)`/gm)].map(
    (m) => m[1],
  ),
)

// Values of every JavaScript type but function (a function is a valid argument of several).
const WRONG = [{ bogus: 1 }, 42, -1, 1.5, 2n, true, null, [1], Symbol('s'), 'text']
const show = (v) => (typeof v === 'symbol' ? 'a symbol' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v))

/** Calls `call`; returns the error it threw or rejected with (undefined when none). */
async function failure(call) {
  let result
  try {
    result = call()
  } catch (err) {
    return err
  }
  if (result && typeof result.then === 'function') {
    try {
      await result
    } catch (err) {
      return err
    }
  }
  return undefined
}

/** Asserts that whatever `call` throws or rejects with has a registered code. */
async function assertCoded(label, call) {
  const err = await failure(call)
  if (err === undefined) return // accepted (e.g. -1 where any number is a timeout): nothing to check
  assert.ok(err instanceof Error, `${label}: threw a non-Error ${String(err)}`)
  assert.ok(README_CODES.has(err.code), `${label}: code ${err.code} is not in the README's error table (${err.message})`)
}

test('functions refuse arguments of the wrong type with a registered code', async (t) => {
  const saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET // nothing is sent anywhere
  t.after(() => {
    if (saved !== undefined) process.env.NOTIFY_SOCKET = saved
  })
  const skip = new Set(['Watchdog', 'NotifyListener', 'Journal', 'JournalListener', 'journal'])
  const functions = Object.keys(api).filter((name) => typeof api[name] === 'function' && !skip.has(name))
  assert.ok(functions.length >= 20, functions.join(', '))
  for (const name of functions) {
    for (const v of WRONG) {
      // clusterPrimary() with an object would start a cluster: only its other refusals here.
      if (name === 'clusterPrimary' && v !== null && typeof v === 'object') continue
      await assertCoded(`${name}(${show(v)})`, () => api[name](v))
      await assertCoded(`${name}(${show(v)}, ${show(v)})`, () => api[name](v, v))
    }
  }
  // Options of the right shape whose members have the wrong type.
  for (const v of WRONG) {
    await assertCoded(`fdStore(0, { name: ${show(v)} })`, () => api.fdStore(0, { name: v }))
    await assertCoded(`notify({ READY: 1 }, { fds: ${show(v)} })`, () => api.notify({ READY: 1 }, { fds: v }))
    await assertCoded(`listenFds({ unsetEnvironment: ${show(v)} })`, () => api.listenFds({ unsetEnvironment: v }))
    await assertCoded(`startWatchdog({ intervalMs: ${show(v)} })`, () => api.startWatchdog({ intervalMs: v }))
  }
})

test('constructors and methods refuse arguments of the wrong type with a registered code', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-types-'))
  const listener = new api.NotifyListener(path.join(dir, 'notify'))
  const journalListener = new api.JournalListener(path.join(dir, 'journal'))
  const journal = new api.Journal({ socket: journalListener.address })
  t.after(() => {
    listener.close()
    journalListener.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  for (const v of WRONG) {
    // A string is a valid address (relative paths included): only the other types here.
    if (typeof v !== 'string' && v !== null) {
      await assertCoded(`new NotifyListener(${show(v)})`, () => new api.NotifyListener(v))
      await assertCoded(`new JournalListener(${show(v)})`, () => new api.JournalListener(v))
    }
    await assertCoded(`new Journal(${show(v)})`, () => new api.Journal(v))
    await assertCoded(`new Watchdog(${show(v)})`, () => new api.Watchdog(v))
    for (const [label, target] of [
      ['listener', listener],
      ['journalListener', journalListener],
    ]) {
      // (null is the default: wait until something arrives.)
      if (v !== null) {
        await assertCoded(`${label}.receive(${show(v)})`, () => target.receive(v))
        await assertCoded(`${label}.receiveJournal(${show(v)})`, () => target.receiveJournal(v))
      }
      // (An array of numbers is a valid argument: it would close those descriptors.)
      if (!Array.isArray(v)) await assertCoded(`${label}.closeFds(${show(v)})`, () => target.closeFds(v))
      await assertCoded(`${label}.closeFds([${show(v)}])`, () => target.closeFds([typeof v === 'number' ? 'x' : v]))
    }
    for (const method of ['send', 'print', 'info', 'error', 'flush', 'streamConnected']) {
      await assertCoded(`journal.${method}(${show(v)})`, () => journal[method](v))
      await assertCoded(`journal.${method}(${show(v)}, ${show(v)}, ${show(v)})`, () => journal[method](v, v, v))
    }
    await assertCoded(`Journal.setQueueLimits(${show(v)})`, () => api.Journal.setQueueLimits(v))
    // bytes: -1 is refused whatever `entries` is: limits that pass would apply to the whole
    // process (Bun and Deno run every test file in one).
    await assertCoded(`Journal.setQueueLimits({ entries: ${show(v)} })`, () => api.Journal.setQueueLimits({ entries: v, bytes: -1 }))
  }
})

test('a refused argument keeps napi-rs\'s error as its cause, and a promise rejects rather than throws', async () => {
  const err = await failure(() => api.fdStoreRemove(42))
  assert.equal(err.code, 'ERR_SD_NOTIFY_INVALID_VALUE')
  assert.match(err.message, /^fdStoreRemove\(\): /)
  assert.equal(err.cause.code, 'StringExpected')
  let thrown = null
  let promise = null
  try {
    promise = api.barrier({ bogus: 1 })
  } catch (e) {
    thrown = e
  }
  assert.equal(thrown, null, 'barrier() returns a rejected promise')
  await assert.rejects(promise, { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => new api.Watchdog(), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
})

test('the watchdogs startWatchdog() makes are still instances of the exported Watchdog', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-types-'))
  const listener = new api.NotifyListener(path.join(dir, 'notify'))
  const saved = { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET, WATCHDOG_USEC: process.env.WATCHDOG_USEC, WATCHDOG_PID: process.env.WATCHDOG_PID }
  process.env.NOTIFY_SOCKET = listener.address
  process.env.WATCHDOG_USEC = '10000000'
  delete process.env.WATCHDOG_PID
  let watchdog = null
  t.after(() => {
    watchdog?.stop()
    listener.close()
    fs.rmSync(dir, { recursive: true, force: true })
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  watchdog = api.startWatchdog()
  assert.ok(watchdog instanceof api.Watchdog)
  assert.ok(!(listener instanceof api.Watchdog))
  assert.ok(listener instanceof api.NotifyListener)
})

test('sd-notify-rs/compat takes or refuses arguments of any type without an uncoded error', async () => {
  // In a child process: compat's default journal reads its socket once, and sendState() warns
  // once per process, which the integration tests of the same process (Bun, Deno) look for.
  const script = `
    const compat = require('sd-notify-rs/compat')
    const WRONG = [{ bogus: 1 }, 42, -1, 1.5, 2n, true, null, [1], Symbol('s'), 'text']
    const calls = Object.entries(compat).filter(([, f]) => typeof f === 'function')
    calls.push(...Object.entries(compat.log).map(([name, f]) => ['log.' + name, f]))
    const uncoded = []
    for (const [name, f] of calls) {
      for (const v of WRONG) {
        for (const args of [[v], [v, v]]) {
          try {
            f(...args)
          } catch (err) {
            if (!/^(ERR_SD_NOTIFY_[A-Z_]+|E[A-Z0-9]+)$/.test(String(err && err.code))) uncoded.push(name + ': ' + String(err && err.message))
          }
        }
      }
    }
    compat.stopWatchdogMode()
    console.log(JSON.stringify({ calls: calls.length, uncoded }))
  `
  const env = { ...process.env, SD_NOTIFY_RS_JOURNAL_SOCKET: path.join(os.tmpdir(), `sd-notify-rs-no-journal-${process.pid}`) }
  delete env.NOTIFY_SOCKET
  const r = cp.spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), env, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const { calls, uncoded } = JSON.parse(r.stdout)
  assert.ok(calls >= 15, `${calls} functions`)
  assert.deepEqual(uncoded, [])
})
