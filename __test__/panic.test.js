'use strict'

// No panic crosses into Node: every function JavaScript calls, every callback and every helper
// thread of the addon runs inside one boundary (sync::contain) that turns a panic into an error
// with code ERR_SD_NOTIFY_PANIC. The addon has no known panic to provoke, so its test-only probe
// (`__armPanicForTests(site)`) makes the next call at one real site panic. Each case runs in a
// child process, which must report and exit normally: an unwinding panic would abort it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { childReport } = require('./helpers')

const ROOT = require('node:path').join(__dirname, '..')

/** Runs `body` (an async function's source) in a child with a NotifyListener as its manager. */
function inChild(body, env = {}) {
  const script = `
    const sd = require(${JSON.stringify(ROOT)})
    const arm = require(${JSON.stringify(ROOT + '/lib/loader')}).loadNative().__armPanicForTests
    const listener = new sd.NotifyListener()
    process.env.NOTIFY_SOCKET = listener.address
    const outcome = (p) => p.then((value) => ({ value }), (err) => ({ code: err.code, message: err.message }))
    const call = (f) => { try { return { value: f() } } catch (err) { return { code: err.code, message: err.message } } }
    ;(async () => { ${body} })().then((report) => { listener.close(); console.log(JSON.stringify(report)) })
  `
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  return childReport(child)
}

test('a panic in a synchronous call is thrown as ERR_SD_NOTIFY_PANIC; the next call works', async () => {
  const r = await inChild(`
    arm('ready')
    const first = call(() => sd.ready())
    const second = call(() => sd.ready('after'))
    const got = await listener.receive(5000)
    return { first, second, text: got.text }
  `)
  assert.equal(r.first.code, 'ERR_SD_NOTIFY_PANIC')
  assert.match(r.first.message, /internal error in sd-notify-rs during ready: panic probe armed for ready/)
  assert.deepEqual(r.second, { value: true })
  // The panicking call sent nothing: the first datagram is the second call's.
  assert.equal(r.text, 'READY=1\nSTATUS=after')
})

test('a panic on a helper thread rejects the promise with ERR_SD_NOTIFY_PANIC', async () => {
  const r = await inChild(`
    arm('sd-notify-listener')
    const broken = await outcome(listener.receive(5000))
    sd.status('still here')
    const next = await outcome(listener.receive(5000))
    return { broken, next: next.value && next.value.text }
  `)
  assert.equal(r.broken.code, 'ERR_SD_NOTIFY_PANIC')
  assert.equal(r.next, 'STATUS=still here')
})

test("a panic in the watchdog's callback reaches onError with a code, and the pings go on", async () => {
  const r = await inChild(
    `
    const errors = []
    arm("the watchdog's request callback")
    const wd = sd.startWatchdog({ intervalMs: 50, onError: (err) => errors.push(err.code) })
    let pings = 0
    while (pings < 3) if ((await listener.receive(5000)).text === 'WATCHDOG=1') pings++
    wd.stop()
    return { errors, pings, stats: wd.stats() }
  `,
    { WATCHDOG_USEC: '1000000' },
  )
  assert.deepEqual(r.errors, ['ERR_SD_NOTIFY_PANIC'])
  assert.equal(r.pings, 3)
  assert.ok(r.stats.pingsSkipped >= 1, 'the request whose callback panicked earned no ping')
})

test("a panic on the watchdog's timer thread stops the watchdog and reaches onError", async () => {
  const r = await inChild(
    `
    arm("the watchdog's timer thread")
    const alive = setTimeout(() => {}, 10000) // the watchdog never keeps a process alive
    let wd
    const err = await new Promise((resolve) => (wd = sd.startWatchdog({ intervalMs: 50, onError: resolve })))
    const pinged = await outcome(listener.receive(300))
    clearTimeout(alive)
    return { code: err.code, message: err.message, pinged: pinged.code, running: wd.running }
  `,
    { WATCHDOG_USEC: '1000000' },
  )
  assert.equal(r.code, 'ERR_SD_NOTIFY_PANIC')
  assert.match(r.message, /timer thread/)
  assert.equal(r.running, false)
  // Stopped, as if the event loop hung: no ping comes, and the manager's timeout acts.
  assert.equal(r.pinged, 'ETIMEDOUT')
})
