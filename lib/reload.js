'use strict'
// onReload(handler): a reload done the way systemd expects, on SIGHUP and on request from the
// `sd-notify-rs reload <pid>` command (the unit's ExecReload=), which waits for the handler and
// exits with its outcome, so `systemctl reload` tells the truth even on systemd < 253.
//
// The request channel is an abstract AF_UNIX stream socket named after the pid, inside the
// service's network namespace; the kernel's SO_PEERCRED tells who connected, and only root or
// the service's own user is served. Abstract names belong to whoever binds them first, so the
// command checks the listener's SO_PEERCRED in turn: it talks only to the target pid itself.
//
// A reload never takes the service down: a notification that cannot be sent (no socket, the
// manager's queue full) or a handler that throws anything at all is reported (the requester's
// answer, STATUS=, a process warning), and READY=1 always follows RELOADING=1.

const fs = require('node:fs')
const net = require('node:net')
const { codedError, echo } = require('./errors')

/** The reload channel's address for process `pid` (abstract: no file, gone with the process). */
const channelPath = (pid) => `\0sd-notify-rs/reload/${pid}`

/** The one request there is, and the most a request (or an answer) may hold before it is refused. */
const REQUEST = 'reload'
const MAX_REQUEST = 64
const MAX_REPLY = 64 * 1024

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

/**
 * What the bytes a client sent so far ask for (pure; fuzz/js/reload_request.js): `incomplete`
 * until a line ends, then `reload` for the one request there is, else `refused` with why. A peer
 * that sends more than MAX_REQUEST bytes without a line end is refused, not buffered.
 */
function parseRequest(text) {
  if (typeof text !== 'string') return { state: 'refused', error: 'not text' }
  const end = text.indexOf('\n')
  if (end < 0) return text.length > MAX_REQUEST ? { state: 'refused', error: `a request is at most ${MAX_REQUEST} bytes` } : { state: 'incomplete' }
  const line = text.slice(0, end)
  if (line === REQUEST || line === `${REQUEST}\r`) return { state: 'reload' }
  return { state: 'refused', error: `unknown request ${echo(line)}` }
}

/**
 * The service's answer (pure; fuzz/js/reload_request.js): `{ ok: true, warning? }` or
 * `{ ok: false, error, code? }` with strings cut to a sane length, or `{ invalid }` saying why
 * the text is no answer. Never throws.
 */
function parseReply(text) {
  if (typeof text !== 'string' || text.length === 0) return { invalid: 'no answer' }
  if (text.length > MAX_REPLY) return { invalid: `an answer of ${text.length} bytes (at most ${MAX_REPLY})` }
  let value
  try {
    value = JSON.parse(text)
  } catch {
    return { invalid: `not an answer: ${echo(text)}` }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof value.ok !== 'boolean') return { invalid: `not an answer: ${echo(text)}` }
  const str = (v) => (typeof v === 'string' ? v.slice(0, 1000) : undefined)
  const out = { ok: value.ok }
  if (value.ok) {
    if (str(value.warning)) out.warning = str(value.warning)
  } else {
    out.error = str(value.error) ?? 'the reload failed (no reason given)'
    if (typeof value.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(value.code)) out.code = value.code
  }
  return out
}

/**
 * A thrown value as text, whatever it is: an Error, a string, undefined, a symbol, an object
 * without a prototype, a Proxy whose every trap throws. Never throws itself.
 */
function describe(err) {
  try {
    if (err instanceof Error) return String(err.message)
  } catch {}
  try {
    return typeof err === 'symbol' ? err.toString() : String(err)
  } catch {}
  try {
    return Object.prototype.toString.call(err)
  } catch {}
  return 'a value that cannot be shown'
}

/** `err[key]` without letting a getter or a Proxy throw. */
function field(err, key) {
  try {
    return err !== null && (typeof err === 'object' || typeof err === 'function') ? err[key] : undefined
  } catch {
    return undefined
  }
}

const warn = (message, code) => process.emitWarning(message, { code, type: 'SdNotifyWarning' })

/** Where the package's own status sends are remembered (lib/diagnostics.js); none: nothing known. */
const NO_STATUS = { lastStatus: () => ({ text: null, generation: 0 }) }

function bindReload(native, statusSource = NO_STATUS) {
  let handlers = []
  let running = null // the reload under way, if any
  let again = false // a request came while one ran: run once more after it
  let server = null
  let sighup = null

  /**
   * One reload: RELOADING=1 + MONOTONIC_USEC, every handler in turn, READY=1 with the outcome.
   * The status shown afterwards is the handler's own (a STATUS= it sent during the reload), else
   * the one from before the reload, else "reloaded": the package does not overwrite the service's.
   */
  async function reloadOnce() {
    const unsent = [] // notifications the manager did not get
    const send = (what, fn) => {
      try {
        fn()
        return true
      } catch (err) {
        unsent.push(`${what} (${field(err, 'code') ?? 'error'}: ${describe(err)})`)
        return false
      }
    }
    const before = statusSource.lastStatus()
    send('RELOADING=1', () => native.reloading('reloading'))
    let outcome
    try {
      for (const h of handlers) await h()
      outcome = { ok: true }
    } catch (err) {
      outcome = { ok: false, error: describe(err).slice(0, 1000) }
      const code = field(err, 'code')
      if (typeof code === 'string') outcome.code = code.slice(0, 64)
      const errno = field(err, 'errno')
      if (Number.isInteger(errno) && errno !== 0) outcome.errno = Math.abs(errno)
    }
    if (outcome.ok) {
      const handlerSetOne = statusSource.lastStatus().generation !== before.generation
      // The handler's STATUS= came after RELOADING=1's: the manager shows it already.
      send('READY=1', () => (handlerSetOne ? native.ready() : native.ready(before.text ?? 'reloaded')))
    } else {
      // The service stays up with its previous configuration: READY=1 ends the reload, the
      // status says why it failed.
      const fields = { READY: 1, STATUS: `reload failed: ${outcome.error}`.replace(/[\r\n\0]+/g, ' ').slice(0, 1000) }
      if (outcome.errno !== undefined && outcome.errno <= 4095) fields.ERRNO = outcome.errno
      // Should that be refused, a bare READY=1 still ends the reload.
      if (!send('READY=1', () => native.notify(fields))) send('READY=1', () => native.ready())
    }
    delete outcome.errno
    if (unsent.length) {
      outcome.warning = `the reload ran, but the service manager did not get ${unsent.join(', ')}`.slice(0, 1000)
      warn(`onReload(): ${outcome.warning}. The service goes on; check NOTIFY_SOCKET and the manager.`, 'SD_NOTIFY_RS_RELOAD_NOTIFY_FAILED')
    }
    return outcome
  }

  /** Runs a reload, or joins the next one when one is under way (requests coalesce). Never rejects. */
  function reload() {
    if (running) {
      again = true
      return running.then(() => running ?? reload())
    }
    running = reloadOnce()
      .catch((err) => ({ ok: false, error: describe(err) })) // a bug of this file: still no crash
      .finally(() => {
        running = null
        if (again) {
          again = false
          reload()
        }
      })
    return running
  }

  function serve(socket) {
    socket.on('error', () => {})
    socket.setTimeout(10_000, () => socket.destroy()) // a client that says nothing
    const answer = (outcome) => socket.end(JSON.stringify(outcome) + '\n')
    const fd = socket._handle && socket._handle.fd
    let allowed = false
    try {
      const [, uid] = native.peerCredentials(fd)
      allowed = uid === 0 || uid === process.getuid()
    } catch {}
    if (!allowed) return answer({ ok: false, error: 'only root or the service user may ask for a reload', code: 'EPERM' })
    let text = ''
    socket.setEncoding('utf8')
    const onData = (d) => {
      text += d
      const request = parseRequest(text)
      if (request.state === 'incomplete') return
      socket.removeListener('data', onData)
      socket.setTimeout(0) // the reload takes what it takes; the requester has its own timeout
      if (request.state === 'refused') return answer({ ok: false, error: request.error })
      reload().then(answer)
    }
    socket.on('data', onData)
  }

  function serveChannel() {
    const pid = process.pid
    server = net.createServer(serve)
    // Not silent: `sd-notify-rs reload` cannot reach a service whose channel is not its own.
    server.on('error', (err) => {
      warn(
        `onReload(): the reload channel (abstract socket @sd-notify-rs/reload/${pid}) could not listen: ${field(err, 'code') ?? describe(err)}. ` +
          `Another process holds the name (\`ss -xlp | grep sd-notify-rs/reload/${pid}\` shows which); \`sd-notify-rs reload ${pid}\` refuses to talk to it. ` +
          'SIGHUP still reloads: use ExecReload=/bin/kill -HUP $MAINPID until the service restarts with a new pid.',
        'SD_NOTIFY_RS_RELOAD_CHANNEL',
      )
    })
    server.listen(channelPath(pid))
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
 * The effective uid of process `pid` now (from /proc/<pid>/status, which any user may read and
 * which, unlike the owner of /proc/<pid>, does not turn to root for a process that changed
 * user); `undefined` when the process is gone or /proc cannot say.
 */
function effectiveUid(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+\d+\s+(\d+)/m)
    return line ? Number(line[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * Why the listener on the channel of `pid` is not trusted (an EPERM error), or undefined. Abstract
 * names are first come, first served, so the channel must be the target's own: SO_PEERCRED names
 * the process that listened (`peerPid`, with its effective uid `peerUid` then). The pid alone is
 * not enough: a process that bound the name of its own pid and forked a child keeping the socket
 * survives its own end, and the pid may since belong to another process. So the listener's uid
 * must also be the target's effective uid now (`targetUid`; undefined: the target is gone). What
 * remains is a process of the target's own uid, which could signal the target anyway.
 */
function channelRefusal(pid, peerPid, peerUid, targetUid) {
  if (peerPid === pid && targetUid === undefined) return codedError('ESRCH', `pid ${pid} no longer exists`)
  if (peerPid === pid && peerUid === targetUid) return undefined
  const who = peerPid === pid ? `a process that listened as pid ${pid} with uid ${peerUid}, while pid ${pid} now runs as uid ${targetUid} (the pid was reused)` : `another process, pid ${peerPid} (uid ${peerUid})`
  return codedError(
    'EPERM',
    `the reload channel of pid ${pid} is held by ${who}: not trusting it, no reload was asked for. ` +
      `The service could not bind its channel (see its SD_NOTIFY_RS_RELOAD_CHANNEL warning); send SIGHUP instead (kill -HUP ${pid}) and find out why pid ${peerPid} holds the name.`,
  )
}

/**
 * Asks process `pid` to reload over its channel and resolves with `{ ok, error?, code?, warning? }`
 * once its handlers ran. Rejects with ESRCH when `pid` does not exist, ECONNREFUSED/ENOENT when
 * nothing listens there (the process has no onReload()), EPERM when another process holds the
 * channel (its pid and uid in the message), ETIMEDOUT after `timeoutMs`.
 */
function requestReload(pid, timeoutMs = 90_000, { native } = {}) {
  return new Promise((resolve, reject) => {
    if (!Number.isSafeInteger(pid) || pid < 1 || pid > 2 ** 31 - 1) return reject(codedError('ERR_SD_NOTIFY_INVALID_NUMBER', 'requestReload(pid): pid must be a positive integer'))
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2 ** 31 - 1) {
      return reject(codedError('ERR_SD_NOTIFY_INVALID_NUMBER', 'requestReload(pid, timeoutMs): timeoutMs must be an integer from 1 to 2147483647'))
    }
    // First whether there is such a process at all: the most useful answer on every runtime.
    try {
      process.kill(pid, 0)
    } catch (err) {
      // EPERM: it exists, under another user (root's command asks anyway).
      if (err.code === 'ESRCH') return reject(codedError('ESRCH', `pid ${pid} does not exist`))
    }
    if (!abstractSocketsWork()) {
      const why = `the reload channel needs Node.js 20.8 or later (abstract Unix socket names), this is ${process.version}: send SIGHUP instead (kill -HUP ${pid})`
      return reject(codedError('ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM', why))
    }
    try {
      native ??= require('./loader').loadNative()
    } catch (err) {
      return reject(err)
    }
    if (typeof native.peerCredentials !== 'function') {
      return reject(codedError('ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM', 'the reload channel needs Linux (SO_PEERCRED): send SIGHUP instead'))
    }
    const socket = net.connect(channelPath(pid))
    const fail = (err) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const timer = setTimeout(() => fail(codedError('ETIMEDOUT', `no answer from pid ${pid} within ${timeoutMs} ms`)), timeoutMs)
    let reply = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      // Abstract names are first come, first served: the channel must be the target's own.
      let peer
      try {
        peer = native.peerCredentials(socket._handle.fd)
      } catch (err) {
        return fail(err)
      }
      const [peerPid, peerUid] = peer
      const refused = channelRefusal(pid, peerPid, peerUid, effectiveUid(pid))
      if (refused) return fail(refused)
      socket.write(`${REQUEST}\n`)
    })
    socket.on('data', (d) => {
      reply += d
      if (reply.length > MAX_REPLY) fail(new Error(`pid ${pid} answered more than ${MAX_REPLY} bytes`))
    })
    socket.on('error', fail)
    socket.on('end', () => {
      clearTimeout(timer)
      const outcome = parseReply(reply.trim())
      if (outcome.invalid) reject(new Error(`pid ${pid} gave no valid answer: ${outcome.invalid}`))
      else resolve(outcome)
    })
  })
}

module.exports = { bindReload, requestReload, channelRefusal, channelPath, abstractSocketsWork, parseRequest, parseReply, describe, MAX_REQUEST, MAX_REPLY }
