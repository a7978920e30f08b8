'use strict'
// onReload(handler): a reload done the way systemd expects, on SIGHUP and on request from the
// `sd-notify-rs reload <pid>` command (the unit's ExecReload=), which waits for the handler and
// exits with its outcome, so `systemctl reload` tells the truth even on systemd < 253.
//
// The request channel is an abstract AF_UNIX stream socket named after the pid, inside the
// service's network namespace; the kernel's SO_PEERCRED tells who connected, and only root or
// the service's own user is served.

const net = require('node:net')
const { codedError } = require('./errors')

/** The reload channel's address for process `pid` (abstract: no file, gone with the process). */
const channelPath = (pid) => `\0sd-notify-rs/reload/${pid}`

/**
 * Whether `net` passes an abstract socket name to the kernel whole: Node.js 20.8 and later
 * (libuv's uv_pipe_bind2). Before, the name is cut at its leading NUL, so every process would
 * listen on one and the same address and a request could reach another service: there, the
 * channel is not served and `requestReload()` refuses (SIGHUP still reloads).
 */
function abstractSocketsWork(versions = process.versions) {
  const [major, minor] = String(versions.node).split('.').map(Number)
  return major > 20 || (major === 20 && minor >= 8)
}

function bindReload(native) {
  let handlers = []
  let running = null // the reload under way, if any
  let again = false // a request came while one ran: run once more after it
  let server = null
  let sighup = null

  const errnoOf = (err) => (err && Number.isInteger(err.errno) ? Math.abs(err.errno) : undefined)

  /** One reload: RELOADING=1 + MONOTONIC_USEC, every handler in turn, READY=1 with the outcome. */
  async function reloadOnce() {
    native.reloading('reloading')
    try {
      for (const h of handlers) await h()
      native.ready('reloaded')
      return { ok: true }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      const errno = errnoOf(err)
      // The service stays up with its previous configuration: READY=1 ends the reload, the
      // status says why it failed.
      const fields = { READY: 1, STATUS: `reload failed: ${message}`.replace(/[\r\n\0]+/g, ' ').slice(0, 1000) }
      if (errno !== undefined) fields.ERRNO = errno
      native.notify(fields)
      return { ok: false, error: message, code: err && err.code }
    }
  }

  /** Runs a reload, or joins the next one when one is under way (requests coalesce). */
  function reload() {
    if (running) {
      again = true
      return running.then(() => running ?? reload())
    }
    running = reloadOnce().finally(() => {
      running = null
      if (again) {
        again = false
        reload()
      }
    })
    return running
  }

  function serveChannel() {
    server = net.createServer((socket) => {
      socket.on('error', () => {})
      const fd = socket._handle && socket._handle.fd
      let allowed = false
      try {
        const [, uid] = native.peerCredentials(fd)
        allowed = uid === 0 || uid === process.getuid()
      } catch {}
      if (!allowed) {
        socket.end(JSON.stringify({ ok: false, error: 'only root or the service user may ask for a reload', code: 'EPERM' }) + '\n')
        return
      }
      let line = ''
      socket.setEncoding('utf8').on('data', (d) => {
        line += d
        if (!line.includes('\n')) return
        if (line.trim() !== 'reload') return socket.end(JSON.stringify({ ok: false, error: 'unknown request' }) + '\n')
        reload().then((outcome) => socket.end(JSON.stringify(outcome) + '\n'))
      })
    })
    server.on('error', () => {}) // a channel that cannot listen leaves SIGHUP working
    server.listen(channelPath(process.pid))
    server.unref() // never what keeps the service alive
  }

  /**
   * Registers `handler` (sync or async) to run on each reload; returns a function that removes it.
   * The first registration starts listening for SIGHUP and for `sd-notify-rs reload <pid>`.
   */
  function onReload(handler) {
    if (typeof handler !== 'function') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'onReload(handler): handler must be a function', { ErrorClass: TypeError })
    handlers.push(handler)
    if (!sighup) {
      sighup = () => void reload()
      process.on('SIGHUP', sighup)
      if (process.platform === 'linux' && native.peerCredentials && abstractSocketsWork()) serveChannel()
    }
    return function offReload() {
      handlers = handlers.filter((h) => h !== handler)
      if (handlers.length === 0 && sighup) {
        process.removeListener('SIGHUP', sighup)
        sighup = null
        if (server) server.close()
        server = null
      }
    }
  }

  return { onReload }
}

/**
 * Asks process `pid` to reload over its channel and resolves with `{ ok, error?, code? }` once its
 * handlers ran; rejects when nothing listens there (the process has no onReload()).
 */
function requestReload(pid, timeoutMs = 90_000) {
  return new Promise((resolve, reject) => {
    if (!abstractSocketsWork()) {
      const why = `the reload channel needs Node.js 20.8 or later (abstract Unix socket names), this is ${process.version}: send SIGHUP instead (kill -HUP ${pid})`
      return reject(codedError('ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM', why))
    }
    const socket = net.connect(channelPath(pid))
    const timer = setTimeout(() => socket.destroy(codedError('ETIMEDOUT', `no answer from pid ${pid} within ${timeoutMs} ms`)), timeoutMs)
    let reply = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write('reload\n'))
    socket.on('data', (d) => (reply += d))
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(reply))
      } catch {
        reject(new Error(`pid ${pid} answered ${JSON.stringify(reply)}`))
      }
    })
  })
}

module.exports = { bindReload, requestReload, channelPath, abstractSocketsWork }
