'use strict'
// drainOnStop(servers): a stop that lets in-flight requests finish. On SIGTERM: STOPPING=1, the
// servers stop accepting, idle keep-alive connections are closed (and each one that becomes idle
// after its last response), and EXTEND_TIMEOUT_USEC keeps asking systemd for more time, so that
// TimeoutStopSec= does not kill a drain that is still making progress; the process exits once
// every server closed, or at the deadline. A second SIGTERM exits at once.

const { codedError } = require('./errors')

function bindDrain(native) {
  /**
   * @param {import('node:net').Server | import('node:net').Server[]} servers
   * @param {{ timeoutMs?: number, extendMs?: number, exit?: (code: number) => void }} [options]
   * @returns {() => void} removes the SIGTERM handler again
   */
  function drainOnStop(servers, options = {}) {
    const list = Array.isArray(servers) ? servers : [servers]
    if (list.length === 0 || !list.every((s) => s && typeof s.close === 'function' && typeof s.on === 'function')) {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(servers): servers must be a net.Server (http.Server, ...) or an array of them')
    }
    if (options === null || typeof options !== 'object') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(servers, options): options must be an object')
    const { timeoutMs = 60_000, extendMs = 5_000, exit = (code) => process.exit(code) } = options
    for (const [name, v] of [['timeoutMs', timeoutMs], ['extendMs', extendMs]]) {
      if (!Number.isSafeInteger(v) || v <= 0) throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', `drainOnStop(): ${name} must be a positive integer`)
    }
    if (typeof exit !== 'function') throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'drainOnStop(): exit must be a function')

    let draining = false
    const onSigterm = () => {
      if (draining) return exit(1) // a second SIGTERM: now
      draining = true
      const started = Date.now()
      let open = list.length
      native.stopping('draining connections')
      const finish = (code) => {
        clearInterval(ticker)
        clearTimeout(deadline)
        exit(code)
      }
      // Ask for two periods at a time, every period: a drain that stalls still ends at the deadline.
      const extend = () => native.extendTimeout(Math.min(2 * extendMs, Math.max(1, timeoutMs - (Date.now() - started)) + 1000))
      extend()
      const ticker = setInterval(() => {
        extend()
        for (const s of list) s.closeIdleConnections?.()
      }, extendMs)
      ticker.unref()
      const deadline = setTimeout(() => {
        native.status('drain deadline reached: closing the remaining connections')
        for (const s of list) s.closeAllConnections?.()
        finish(1)
      }, timeoutMs)
      deadline.unref()
      for (const s of list) {
        s.close(() => {
          if (--open === 0) {
            native.status('drained')
            finish(0)
          }
        })
        s.closeIdleConnections?.()
        // A keep-alive connection that finishes its response while draining closes then.
        s.on('request', (req, res) => res.setHeader('connection', 'close'))
      }
    }
    process.on('SIGTERM', onSigterm)
    return () => process.removeListener('SIGTERM', onSigterm)
  }
  return { drainOnStop }
}

module.exports = { bindDrain }
