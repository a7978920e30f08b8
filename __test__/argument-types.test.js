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

// One rule for a wrong type, every exported function: a TypeError whose code is
// ERR_SD_NOTIFY_INVALID_NUMBER (a number was expected) or ERR_SD_NOTIFY_INVALID_VALUE, whose
// message names the function and the argument, and says nothing of Rust (no type names).
const RUST = /rust|napi|\bf64\b|\bu32\b|\bi32\b|\bu64\b|\bString\b|\bVec<|\bOption<|Failed to convert/

async function assertTypeError(label, call, { code, names }) {
  const err = await failure(call)
  assert.ok(err instanceof TypeError, `${label}: expected a TypeError, got ${err === undefined ? 'no error' : `${err?.constructor?.name}: ${err?.message}`}`)
  assert.equal(err.code, code, `${label}: ${err.message}`)
  assert.ok(err.message.includes(names), `${label}: the message should name ${names}: ${err.message}`)
  assert.doesNotMatch(err.message, RUST, label)
}

const NUMBER = 'ERR_SD_NOTIFY_INVALID_NUMBER'
const VALUE = 'ERR_SD_NOTIFY_INVALID_VALUE'
const NOT_NUMBERS = ['10s', true, {}, [], 2n, Symbol('s')]
const NOT_STRINGS = [123, true, {}, [], 2n, Symbol('s')]
const NOT_OPTIONAL_STRINGS = NOT_STRINGS
const NOT_OBJECTS = [1, 'text', true, 2n, Symbol('s')]

test('every exported function refuses a wrong type the same way: a TypeError naming it and the argument', async (t) => {
  const saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET // nothing is sent anywhere
  t.after(() => {
    if (saved !== undefined) process.env.NOTIFY_SOCKET = saved
  })
  const cases = []
  const each = (values, name, arg, code, call) => {
    for (const v of values) cases.push([`${name}(${show(v)})`, () => call(v), { code, names: `${name}(${arg}` }])
  }
  for (const name of ['ready', 'reloading', 'stopping']) each(NOT_OPTIONAL_STRINGS, name, 'status', VALUE, (v) => api[name](v))
  each([...NOT_STRINGS, undefined, null], 'status', 'text', VALUE, (v) => api.status(v))
  each([...NOT_STRINGS, undefined], 'busError', 'name', VALUE, (v) => api.busError(v))
  each([...NOT_STRINGS, undefined], 'fdStoreRemove', 'name', VALUE, (v) => api.fdStoreRemove(v))
  each([...NOT_NUMBERS, undefined, null], 'setWatchdogTimeout', 'ms', NUMBER, (v) => api.setWatchdogTimeout(v))
  each([...NOT_NUMBERS, undefined, null], 'extendTimeout', 'ms', NUMBER, (v) => api.extendTimeout(v))
  each([...NOT_NUMBERS, undefined, null], 'mainPid', 'pid', NUMBER, (v) => api.mainPid(v))
  each([...NOT_NUMBERS, undefined, null], 'errno', 'code', NUMBER, (v) => api.errno(v))
  each(NOT_NUMBERS, 'barrier', 'timeoutMs', NUMBER, (v) => api.barrier(v))
  each([...NOT_NUMBERS, undefined, null], 'fdStore', 'fd', NUMBER, (v) => api.fdStore(v))
  each(NOT_OBJECTS, 'fdStore', 'options', VALUE, (v) => api.fdStore(0, v))
  each(NOT_STRINGS, 'fdStore', 'options.name', VALUE, (v) => api.fdStore(0, { name: v }))
  each(['yes', 1, {}], 'fdStore', 'options.poll', VALUE, (v) => api.fdStore(0, { poll: v }))
  each([...NOT_OBJECTS, undefined, null], 'notify', 'fields', VALUE, (v) => api.notify(v))
  each([{}, [], Symbol('s'), () => 1], 'notify', 'fields.STATUS', VALUE, (v) => api.notify({ STATUS: v }))
  each(NOT_OBJECTS, 'notify', 'options', VALUE, (v) => api.notify({ READY: 1 }, v))
  each([3, 'text', {}], 'notify', 'options.fds', VALUE, (v) => api.notify({ READY: 1 }, { fds: v }))
  each(['3', null, {}], 'notify', 'options.fds[0]', NUMBER, (v) => api.notify({ READY: 1 }, { fds: [v] }))
  each(NOT_OBJECTS, 'listenFds', 'options', VALUE, (v) => api.listenFds(v))
  each(['yes', 1, {}], 'listenFds', 'options.unsetEnvironment', VALUE, (v) => api.listenFds({ unsetEnvironment: v }))
  each([1, 'text', true], 'startWatchdog', 'options', VALUE, (v) => api.startWatchdog(v))
  each(['10', true, {}], 'startWatchdog', 'options.intervalMs', NUMBER, (v) => api.startWatchdog({ intervalMs: v }))
  each([1, 'text', {}, null], 'onReload', 'handler', VALUE, (v) => api.onReload(v))
  each([1, 'text', {}, null], 'drainOnStop', 'servers', VALUE, (v) => api.drainOnStop(v))
  each([1, 'text', true], 'clusterPrimary', 'options', VALUE, (v) => api.clusterPrimary(v))
  each([1, 'text', {}, null], 'listen', 'server', VALUE, (v) => api.listen(v))
  each(NOT_NUMBERS.filter((v) => typeof v !== 'object'), 'Journal#flush', 'timeoutMs', NUMBER, (v) => api.journal.flush(v))
  // Every exported function is in the table (the ones without arguments have nothing to refuse).
  const covered = new Set(cases.map(([label]) => label.split('(')[0]))
  const withoutArguments = new Set(['watchdog', 'watchdogTrigger', 'available', 'watchdogEnabled', 'booted', 'listenInfo'])
  for (const name of Object.keys(api)) {
    if (typeof api[name] !== 'function' || /^[A-Z]/.test(name) || withoutArguments.has(name)) continue
    assert.ok(covered.has(name), `${name}() has no wrong-type case here`)
  }
  for (const [label, call, expected] of cases) await assertTypeError(label, call, expected)
})

test('constructors and methods refuse a wrong type the same way', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-types-'))
  const listener = new api.NotifyListener(path.join(dir, 'notify'))
  t.after(() => {
    listener.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  for (const v of NOT_STRINGS) {
    await assertTypeError(`new NotifyListener(${show(v)})`, () => new api.NotifyListener(v), { code: VALUE, names: 'NotifyListener(address' })
  }
  for (const v of ['10', true, {}]) {
    await assertTypeError(`listener.receive(${show(v)})`, () => listener.receive(v), { code: NUMBER, names: 'receive(timeoutMs' })
  }
  await assertTypeError('listener.closeFds(5)', () => listener.closeFds(5), { code: VALUE, names: 'closeFds(fds' })
})

test('a wrong type under a key of megabytes echoes a short part of the key, never the value', () => {
  const key = `X_${'K'.repeat(1_000_000)}`
  assert.throws(
    () => api.notify({ [key]: { huge: 'v'.repeat(1_000_000) } }),
    (err) => err instanceof TypeError && err.code === VALUE && err.message.length < 300 && err.message.startsWith('notify(fields.X_KKK'),
  )
})

test('a promise rejects rather than throws', async () => {
  let thrown = null
  let promise = null
  try {
    promise = api.barrier({ bogus: 1 })
  } catch (e) {
    thrown = e
  }
  assert.equal(thrown, null, 'barrier() returns a rejected promise')
  await assert.rejects(promise, { code: 'ERR_SD_NOTIFY_INVALID_NUMBER', name: 'TypeError' })
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
