'use strict'
// Shared pieces of the unit tests: a real NotifyListener as the manager, and a check that a
// refused call sent nothing.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { before, after, afterEach } = require('node:test')
const sd = require('..')

/** Binds a listener, points NOTIFY_SOCKET at it for the test, and restores everything after. */
function useListener(t, address) {
  const listener = new sd.NotifyListener(address)
  const previous = process.env.NOTIFY_SOCKET
  process.env.NOTIFY_SOCKET = listener.address
  t.after(() => {
    listener.close()
    if (previous === undefined) delete process.env.NOTIFY_SOCKET
    else process.env.NOTIFY_SOCKET = previous
  })
  return listener
}

/**
 * Asserts that `fn` throws with `code` and that nothing reached `listener`: a sentinel sent
 * afterwards must be the very next datagram.
 */
async function assertRefused(listener, fn, code) {
  assert.throws(fn, (err) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    assert.ok(err instanceof Error)
    assert.ok(err.message.length > 10, 'the message says what is wrong')
    return true
  })
  assert.equal(sd.status('sentinel'), true)
  const next = await listener.receive(2000)
  assert.equal(next.text, 'STATUS=sentinel', 'the refused call must not have sent anything')
}

/**
 * One NotifyListener as NOTIFY_SOCKET for a whole test file. `receive()` keeps the descriptors
 * that arrive and closes them after each test (`received` lists them until then);
 * `assertNothingArrives()` checks that the listener stays silent.
 */
function useFileListener() {
  const manager = {
    listener: null,
    received: [],
    async receive() {
      const m = await manager.listener.receive(2000)
      manager.received.push(...m.fds)
      return m
    },
    async assertNothingArrives() {
      await assert.rejects(manager.listener.receive(150), { code: 'ETIMEDOUT' })
    },
  }
  before(() => {
    manager.listener = new sd.NotifyListener()
    process.env.NOTIFY_SOCKET = manager.listener.address
  })
  after(() => {
    delete process.env.NOTIFY_SOCKET
    manager.listener.close()
  })
  afterEach(() => {
    manager.listener.closeFds(manager.received.splice(0))
  })
  return manager
}

/** The JavaScript runtime running the tests: 'bun', 'deno' or 'node'. */
const RUNTIME = process.versions.bun ? 'bun' : process.versions.deno ? 'deno' : 'node'

/**
 * Test options that skip the test under the runtimes `gaps` names (`{ bun: why, deno: why }`),
 * saying what that runtime lacks; elsewhere the test runs.
 */
const runtimeGap = (gaps) => ({ skip: gaps[RUNTIME] ? `${RUNTIME} ${process.versions[RUNTIME]}: ${gaps[RUNTIME]}` : false })

// The gaps several test files meet.
const GAPS = {
  // Bun's node:http server is no libuv-style server: no _handle, and listen({ fd }) is ignored.
  httpFd: { bun: "node:http servers have no socket handle (server._handle): no descriptor to store, and listen({ fd }) is ignored", deno: 'servers do not expose their descriptor (server._handle.fd)' },
  serverFd: { deno: 'servers do not expose their descriptor (server._handle.fd)' },
  // Bun's node:http server is no net.Server: its close() ends kept-alive connections at once.
  // Deno resolves a Worker's terminate() before the Worker's environment is torn down.
  workerTeardown: { deno: "after terminate() of a Worker resolves, the Worker's environment may not have been torn down yet (its cleanup hooks run later)" },
  // Under RLIMIT_NPROC=1 Deno cannot start at all: it needs threads of its own.
  threadLimit: { deno: 'cannot start under a thread limit of 1 (it needs worker threads of its own)' },
  keepAliveDrain: { bun: "node:http servers' close() ends kept-alive connections at once, so a request sent on one after SIGTERM is reset" },
}

/**
 * CLOCK_MONOTONIC now, in microseconds (a bigint), or null where this process cannot read it:
 * Node's process.hrtime is that clock; Bun's and Deno's count from their own start, so there
 * the kernel's own "now" is read from /proc/timer_list (readable by root only).
 */
function monotonicUsec() {
  if (RUNTIME === 'node') return process.hrtime.bigint() / 1000n
  try {
    const now = /^now at (\d+) nsecs$/m.exec(fs.readFileSync('/proc/timer_list', 'latin1'))
    return now ? BigInt(now[1]) / 1000n : null
  } catch {
    return null
  }
}

/**
 * fs.Stats of what descriptor `fd` refers to, through /proc/self/fd: for descriptors a listener
 * received, which a runtime's fs may not know (Deno's fs only knows descriptors it opened).
 */
const statFd = (fd) => fs.statSync(`/proc/self/fd/${fd}`)

/**
 * Resolves with the JSON report a child process prints on stdout, once it exited with 0; rejects
 * with its stderr otherwise. The one way the unit tests read a child's outcome.
 */
function childReport(child) {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`))
      try {
        resolve(JSON.parse(stdout))
      } catch (err) {
        reject(new Error(`child printed no report (${err.message}): ${stdout}\n${stderr}`))
      }
    })
  })
}

module.exports = { sd, useListener, useFileListener, assertRefused, childReport, statFd, RUNTIME, runtimeGap, GAPS, monotonicUsec }
