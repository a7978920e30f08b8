'use strict'
// drainOnStop(servers): a stop that lets in-flight requests finish and drops no request on a
// keep-alive connection. On SIGTERM: STOPPING=1; the servers stop accepting (their own listening
// socket closes; a socket kept by systemd's fd store or a .socket unit stays open, and new
// connections wait in its queue for the next process); every response from then on carries
// `Connection: close`, so a client that sends on a kept-alive connection gets its answer and
// closes that connection itself; connections still idle after `idleGraceMs` are closed; and
// EXTEND_TIMEOUT_USEC keeps asking systemd for more time, so that TimeoutStopSec= does not kill a
// drain that is still making progress. The process exits once every server closed, or at the
// deadline. A second SIGTERM exits at once.
//
// Why not close idle connections at once: a client may be sending a request on one at that very
// moment, and it then gets ECONNRESET for a request the server never saw (the keep-alive race).
// And why net.Server's close() rather than http.Server's: since Node 19 the latter also destroys
// "idle" connections, which includes ones accepted a moment ago whose request is not read yet.

//
// A notification that cannot be sent (no socket, the manager's queue full) never stops the drain:
// it is reported once per stop as a process warning (SD_NOTIFY_RS_DRAIN_NOTIFY_FAILED) and the
// drain goes on. Every time is bounded to MAX_MS (2^31-1 ms, about 24.8 days): Node fires a
// longer timer after 1 ms, which would end the drain at once or extend the timeout in a loop.

const net = require('node:net')
const { codedError } = require('./errors')
const { ownOptions } = require('./options')

/** The longest timer Node keeps as asked. */
const MAX_MS = 2 ** 31 - 1

// A runtime whose http.Server is not a net.Server (Bun) has only its own close().
const closeListening = (server, callback) => (server instanceof net.Server ? net.Server.prototype.close : server.close).call(server, callback)

function bindDrain(native) {
  /**
   * @param {import('node:net').Server | import('node:net').Server[]} servers
   * @param {{ timeoutMs?: number, extendMs?: number, idleGraceMs?: number, exit?: (code: number) => void }} [options]
   * @returns {() => void} removes the SIGTERM handler again
   */
  function drainOnStop(servers, options = {}) {
    const list = Array.isArray(servers) ? servers : [servers]
    if (list.length === 0 || !list.every((s) => s && typeof s.close === 'function' && typeof s.on === 'function')) {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(servers): servers must be a net.Server (http.Server, ...) or an array of them', { ErrorClass: TypeError })
    }
    if (options === null || typeof options !== 'object') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(servers, options): options must be an object', { ErrorClass: TypeError })
    const { timeoutMs = 60_000, extendMs = 5_000, idleGraceMs = 1_000, exit = (code) => process.exit(code) } = ownOptions(options)
    for (const [name, v] of [['timeoutMs', timeoutMs], ['extendMs', extendMs]]) {
      if (!Number.isSafeInteger(v) || v <= 0 || v > MAX_MS) throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', `drainOnStop(): ${name} must be an integer from 1 to ${MAX_MS} (ms)`)
    }
    if (!Number.isSafeInteger(idleGraceMs) || idleGraceMs < 0 || idleGraceMs > MAX_MS) {
      throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', `drainOnStop(): idleGraceMs must be an integer from 0 to ${MAX_MS} (ms)`)
    }
    if (typeof exit !== 'function') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(options.exit): exit must be a function', { ErrorClass: TypeError })

    let draining = false
    // The connections of HTTP servers and how many requests each has in flight: at the grace's end
    // those with none are closed, including ones that connected and never sent a request (which
    // http.Server's closeIdleConnections() leaves open). Other servers' connections are theirs to end.
    const inFlight = new Map()
    const track = (socket) => {
      inFlight.set(socket, 0)
      socket.once('close', () => inFlight.delete(socket))
    }
    // Before the application's own handler, which may answer at once: the header must be set first.
    const lastResponse = (req, res) => {
      const socket = req.socket
      if (inFlight.has(socket)) {
        inFlight.set(socket, inFlight.get(socket) + 1)
        res.once('close', () => inFlight.has(socket) && inFlight.set(socket, inFlight.get(socket) - 1))
      }
      if (draining && !res.headersSent) res.setHeader('connection', 'close')
    }
    const http = list.filter((s) => typeof s.closeIdleConnections === 'function')
    for (const s of http) {
      s.prependListener('connection', track)
      s.prependListener('request', lastResponse)
    }
    const closeIdle = () => {
      for (const s of http) s.closeIdleConnections()
      for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy()
    }

    const onSigterm = () => {
      if (draining) return exit(1) // a second SIGTERM: now
      draining = true
      const started = Date.now()
      let open = list.length
      let warned = false
      const send = (fn) => {
        try {
          fn()
        } catch (err) {
          if (warned) return
          warned = true
          process.emitWarning(`drainOnStop(): the service manager did not get a notification of the drain (${err && err.code}: ${err && err.message}); the drain goes on.`, {
            code: 'SD_NOTIFY_RS_DRAIN_NOTIFY_FAILED',
            type: 'SdNotifyWarning',
          })
        }
      }
      send(() => native.stopping('draining connections'))
      const finish = (code) => {
        clearInterval(ticker)
        clearTimeout(deadline)
        clearTimeout(grace)
        exit(code)
      }
      // Ask for two periods at a time, every period: a drain that stalls still ends at the deadline.
      const extend = () => send(() => native.extendTimeout(Math.min(2 * extendMs, Math.max(1, timeoutMs - (Date.now() - started)) + 1000)))
      extend()
      let graceOver = false
      const ticker = setInterval(() => {
        extend()
        // Once the grace is over, also each connection that became idle since (a client that
        // ignored `Connection: close`, or one that connected and sent nothing).
        if (graceOver) closeIdle()
      }, extendMs)
      ticker.unref()
      const grace = setTimeout(() => {
        graceOver = true
        closeIdle()
      }, idleGraceMs)
      grace.unref()
      const deadline = setTimeout(() => {
        send(() => native.status('drain deadline reached: closing the remaining connections'))
        for (const s of list) s.closeAllConnections?.()
        finish(1)
      }, timeoutMs)
      deadline.unref()
      for (const s of list) {
        closeListening(s, () => {
          if (--open === 0) {
            send(() => native.status('drained'))
            finish(0)
          }
        })
      }
    }
    process.on('SIGTERM', onSigterm)
    return () => {
      process.removeListener('SIGTERM', onSigterm)
      for (const s of http) {
        s.removeListener('connection', track)
        s.removeListener('request', lastResponse)
      }
    }
  }
  return { drainOnStop }
}

module.exports = { bindDrain }
