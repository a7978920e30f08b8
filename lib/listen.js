'use strict'
// The JavaScript half of socket activation and the fd store:
//  - listenFds(): the native call, plus removing the variables from `process.env` too when asked
//    (a worker thread's process.env is its own copy, which the native unset does not reach);
//  - listen(): a server on the socket systemd passed, else a new one handed to the fd store, so
//    the next process of the service gets it back and no connection is refused during a restart.

const LISTEN_VARIABLES = ['LISTEN_PID', 'LISTEN_PIDFDID', 'LISTEN_FDS', 'LISTEN_FDNAMES']

const { codedError } = require('./errors')

/**
 * The listening socket's descriptor. `server._handle.fd` is Node's internal, but on Linux it has
 * been the libuv handle's fd for every Node version with `server.listen({ fd })`.
 * Undefined when there is none: a cluster worker in round-robin mode (the primary owns the
 * socket), or a server that is not a net.Server.
 */
function serverFd(server) {
  const fd = server._handle && server._handle.fd
  return Number.isInteger(fd) && fd >= 0 ? fd : undefined
}

/**
 * Refuses, closing `server`, one that did not take the passed descriptor `fd`: a server with no
 * socket handle at all (Bun's node:http server ignores `listen({ fd })` and listens on a port of
 * its own), or whose handle holds another descriptor. A handle without a descriptor (Deno, a
 * cluster worker) cannot be checked and is trusted.
 */
function assertOnPassedSocket(server, fd) {
  const actual = serverFd(server)
  if (server._handle && (actual === undefined || actual === fd)) return
  server.close()
  throw codedError(
    'ERR_SD_NOTIFY_NO_SERVER_FD',
    `listen(): the server did not listen on the socket systemd passed (fd ${fd})` +
      (actual === undefined ? ': it has no socket handle' : `, but on fd ${actual}`) +
      ". This runtime's server cannot take an inherited socket (Bun's node:http server cannot): use a net.Server.",
  )
}

/** server.listen(options) as a promise: resolves on 'listening', rejects on 'error'. */
function listenOn(server, options) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      server.removeListener('listening', onListening)
      reject(err)
    }
    const onListening = () => {
      server.removeListener('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    try {
      server.listen(options)
    } catch (err) {
      server.removeListener('error', onError)
      server.removeListener('listening', onListening)
      reject(err)
    }
  })
}

/** `true`, `false` or 'auto' (store when systemd says the unit has an fd store). */
function wantsFdStore(fdStore) {
  if (fdStore === true || fdStore === false) return fdStore
  // systemd >= 254 sets FDSTORE to FileDescriptorStoreMax= when it is > 0.
  return Number(process.env.FDSTORE) > 0
}

function bindListen(native) {
  function listenFds(options) {
    try {
      return native.listenFds(options)
    } finally {
      // (An own property only, as the native side reads it: never one inherited through pollution.)
      if (options && Object.hasOwn(options, 'unsetEnvironment') && options.unsetEnvironment) for (const name of LISTEN_VARIABLES) delete process.env[name]
    }
  }

  // Passed descriptors listen() has put a server on, in this process: never two servers on one
  // socket. They stay claimed after the server closes: the number may then name something else.
  const claimed = new Set()
  const infos = new WeakMap()

  async function listen(server, options = {}) {
    if (!server || typeof server.listen !== 'function' || typeof server.once !== 'function') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'listen(server): server must be a net.Server (e.g. http.createServer(app))', { ErrorClass: TypeError })
    }
    if (options === null || typeof options !== 'object') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'listen(server, options): options must be an object', { ErrorClass: TypeError })
    }
    const { name, fdStore = 'auto', poll, ...listenOptions } = options
    if (name !== undefined && typeof name !== 'string') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'listen(): options.name must be a string', { ErrorClass: TypeError })
    }
    if (fdStore !== 'auto' && typeof fdStore !== 'boolean') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', "listen(): options.fdStore must be true, false or 'auto'", { ErrorClass: TypeError })
    }

    const passed = listenFds()
    const free = passed.filter((f) => !claimed.has(f.fd))
    let inherited
    if (name !== undefined) {
      inherited = free.find((f) => f.name === name)
    } else if (passed.length > 1) {
      throw codedError(
        'ERR_SD_NOTIFY_INVALID_VALUE',
        `listen(): systemd passed ${passed.length} descriptors (${passed.map((f) => f.name).join(', ')}); ` +
          'say which one this server takes with options.name',
      )
    } else {
      inherited = free[0]
    }

    if (inherited) {
      claimed.add(inherited.fd)
      try {
        const { backlog } = listenOptions
        await listenOn(server, backlog === undefined ? { fd: inherited.fd } : { fd: inherited.fd, backlog })
        assertOnPassedSocket(server, inherited.fd)
      } catch (err) {
        claimed.delete(inherited.fd)
        throw err
      }
      infos.set(server, { fd: inherited.fd, name: inherited.name, inherited: true, stored: false })
      return server
    }

    await listenOn(server, listenOptions)
    const fd = serverFd(server)
    let stored = false
    try {
      if (wantsFdStore(fdStore)) {
        if (fd === undefined) {
          throw codedError(
            'ERR_SD_NOTIFY_NO_SERVER_FD',
            'listen(): cannot reach the listening socket to hand it to the fd store: server._handle.fd is missing ' +
              "(a cluster worker in round-robin mode, not a net.Server, or a runtime that does not expose it: Deno, Bun's " +
              'node:http server). Store it where the socket lives (the cluster primary), or pass fdStore: false.',
          )
        }
        const storeOptions = {}
        if (name !== undefined) storeOptions.name = name
        if (poll !== undefined) storeOptions.poll = poll
        stored = native.fdStore(fd, storeOptions)
      }
    } catch (err) {
      // Nothing half-done: the caller gets either a stored listening server or a closed one.
      server.close()
      throw err
    }
    infos.set(server, { fd: fd === undefined ? null : fd, name: name === undefined ? null : name, inherited: false, stored })
    return server
  }

  /** How listen() set up `server`, or null when listen() did not. */
  function listenInfo(server) {
    const info = server && typeof server === 'object' ? infos.get(server) : undefined
    return info ? { ...info } : null
  }

  return { listenFds, listen, listenInfo }
}

module.exports = { bindListen, serverFd, LISTEN_VARIABLES }
