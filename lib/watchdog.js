'use strict'
// The event-loop half of startWatchdog(). The native timer thread asks for proof of life; only
// this code, running on the event loop, can answer it. A blocked loop cannot answer, so no
// WATCHDOG=1 goes out and the service manager restarts the service: the watchdog's whole point.

const { performance } = require('node:perf_hooks')

const { codedError } = require('./errors')
const { ownOptions } = require('./options')

const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'

function unhealthy(threw, cause) {
  const why = threw ? `threw: ${cause instanceof Error ? cause.message : String(cause)}` : 'returned false'
  return codedError('ERR_SD_NOTIFY_WATCHDOG_UNHEALTHY', `watchdog health check ${why}`, { cause })
}

const timedOut = (ms) => codedError('ETIMEDOUT', `watchdog health check timed out after ${ms} ms`)

/**
 * Runs `healthCheck` and calls `done(null)` when healthy, or `done(error)` when it threw,
 * rejected, returned or resolved `false`, or took longer than `timeoutMs`.
 */
function runHealthCheck(healthCheck, timeoutMs, done) {
  const started = performance.now()
  let result
  try {
    result = healthCheck()
  } catch (err) {
    return done(unhealthy(true, err))
  }
  if (!isThenable(result)) {
    if (result === false) return done(unhealthy(false))
    return done(performance.now() - started > timeoutMs ? timedOut(timeoutMs) : null)
  }
  let settled = false
  const finish = (failure) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(failure)
  }
  // unref: a pending health check must not keep the process alive any more than the watchdog does.
  const timer = setTimeout(() => finish(timedOut(timeoutMs)), timeoutMs).unref()
  Promise.resolve(result).then(
    (value) => finish(value === false ? unhealthy(false) : null),
    (err) => finish(unhealthy(true, err)),
  )
}

function check(name, value, type) {
  if (value !== undefined && typeof value !== type) {
    const code = type === 'number' ? 'ERR_SD_NOTIFY_INVALID_NUMBER' : 'ERR_SD_NOTIFY_INVALID_VALUE'
    throw codedError(code, `startWatchdog(options.${name}) must be a ${type}; got ${typeof value}`, { ErrorClass: TypeError })
  }
}

/** `startWatchdog()` over the native binding `native`; without one (the no-op layer) it returns `null`. */
function startWatchdogFor(native) {
  if (typeof native.startWatchdogTimer !== 'function') return () => null

  return function startWatchdog(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'startWatchdog(options): options must be an object', { ErrorClass: TypeError })
    }
    // Own properties only (prototype pollution): the native side reads this copy too.
    const own = ownOptions(options)
    const { intervalMs, healthCheck, healthCheckTimeoutMs, failureAction, onError } = own
    check('intervalMs', intervalMs, 'number')
    check('healthCheckTimeoutMs', healthCheckTimeoutMs, 'number')
    check('failureAction', failureAction, 'string')
    check('healthCheck', healthCheck, 'function')
    check('onError', onError, 'function')
    const report = onError ?? ((err) => process.emitWarning(err))

    let watchdog = null
    const answer = (seq, failure) => {
      watchdog.acknowledge(seq, failure === null)
      if (failure && watchdog.running) report(failure)
    }
    // Called by the timer thread through a weak threadsafe function: (seq) asks the health check
    // for an answer, (null, code, message) reports a failed send. Without a health check the
    // native side answers by itself when this call reaches the event loop: seq is then null.
    const onRequest = (seq, code, message) => {
      if (code != null) return report(codedError(code, `watchdog: ${message}`))
      if (seq == null) return
      if (!healthCheck) return watchdog.acknowledge(seq, true)
      runHealthCheck(healthCheck, watchdog.healthCheckTimeoutMs, (failure) => answer(seq, failure))
    }
    watchdog = native.startWatchdogTimer(own, onRequest)
    return watchdog
  }
}

module.exports = { startWatchdogFor }
