'use strict'
// Node's cluster under systemd. Workers are children of the primary, so under the default
// NotifyAccess=main systemd ignores what they send. With one line in the primary,
// `sd.clusterPrimary({ workers: n })`:
// - a worker's ready() goes to the primary over cluster IPC instead (the same call as without
//   cluster); the primary sends READY=1 only when all n workers are ready, and STATUS= says how
//   many are; a worker that dies stops counting, and its replacement counts once it is ready;
// - the primary's watchdog (startWatchdog(), when WatchdogSec= asks for one) pings only while
//   every live worker's event loop answers: a hung worker stops the pings, and systemd restarts
//   the service.

// Loaded at the first use, not at require('sd-notify-rs').
const cluster = new Proxy({}, { get: (_, key) => require('node:cluster')[key] })
const { codedError } = require('./errors')
const { ownOptions, own } = require('./options')

const MARK = 'sdNotifyRs' // the key of this package's IPC messages
const ENV = 'SD_NOTIFY_RS_CLUSTER' // set by the primary, inherited by the workers it forks

let answering = false

/** A managed worker's ready()/stopping(): sent to the primary; a ready worker answers its pings. */
function sendToPrimary(name, status) {
  if (name === 'ready' && !answering) {
    answering = true
    // Answered from this worker's event loop: the proof of life the primary's watchdog needs.
    process.on('message', (m) => {
      if (own(m, MARK) === 'ping') process.send({ [MARK]: 'pong', id: m.id })
    })
  }
  process.send({ [MARK]: name, status: typeof status === 'string' ? status : undefined })
  return true
}

function bindPrimary(native, api) {
  // ---- in the primary ----
  let started = null
  function clusterPrimary(options = {}) {
    if (!cluster.isPrimary) throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'clusterPrimary(): call it in the cluster primary (cluster.isPrimary)')
    if (started) return started
    if (options === null || typeof options !== 'object') {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'clusterPrimary(options): options must be an object ({ workers, healthCheckTimeoutMs })', { ErrorClass: TypeError })
    }
    const { workers, healthCheckTimeoutMs } = ownOptions(options)
    if (!Number.isSafeInteger(workers) || workers < 1) throw codedError('ERR_SD_NOTIFY_INVALID_NUMBER', 'clusterPrimary({ workers }): workers must be a positive integer, the number of workers to wait for')
    process.env[ENV] = '1' // forked workers inherit it
    const ready = new Set()
    let announced = false
    const report = () => {
      const text = `${ready.size} of ${workers} workers ready`
      if (!announced && ready.size >= workers) {
        announced = true
        native.ready(text)
      } else {
        native.status(text)
      }
    }
    cluster.on('message', (worker, m) => {
      const kind = own(m, MARK)
      if (kind === 'ready') {
        ready.add(worker.id)
        report()
      } else if (kind === 'stopping') {
        ready.delete(worker.id)
        report()
      }
    })
    cluster.on('exit', (worker) => {
      if (ready.delete(worker.id)) report()
    })

    // Every live, ready worker must answer a ping from its event loop.
    let nextId = 0
    const pending = new Map()
    cluster.on('message', (worker, m) => {
      if (own(m, MARK) === 'pong') pending.get(own(m, 'id'))?.(worker.id)
    })
    const everyWorkerAnswers = () =>
      Promise.all(
        [...ready].map((wid) => {
          const worker = cluster.workers[wid]
          if (!worker) return true
          const id = nextId++
          return new Promise((resolve) => {
            pending.set(id, () => {
              pending.delete(id)
              resolve(true)
            })
            worker.send({ [MARK]: 'ping', id })
          })
        }),
      ).finally(() => pending.clear())
    const watchdog = api.startWatchdog({ healthCheck: everyWorkerAnswers, healthCheckTimeoutMs })
    started = { watchdog, readyWorkers: () => ready.size }
    return started
  }
  return { clusterPrimary }
}

module.exports = { bindPrimary, sendToPrimary }
