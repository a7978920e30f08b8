'use strict'
// Warnings for the silent failures people cannot debug, each given once per process:
// - SD_NOTIFY_RS_NOT_MAIN_PID: the first notification comes from a process that is not the one
//   systemd started (SYSTEMD_EXEC_PID, systemd >= 248): `npm start`, a shell without `exec`, a
//   cluster worker. Under the default NotifyAccess=main systemd drops everything it sends.
// - SD_NOTIFY_RS_WATCHDOG_NOT_STARTED: WatchdogSec= is set, ready() was sent, and no watchdog was
//   started within half the timeout: systemd will kill and restart the service, again and again.
// The checks run on the first notification and at ready(), never on later calls, which pay one
// boolean test. (A send the unit's sandbox refuses says what to change in its error message.)

/** Each diagnostics' "a watchdog runs" switch, for watchdogs started elsewhere (compat's timer). */
const watchdogSwitches = new Set()

/** Tells the diagnostics a watchdog runs: sd-notify-rs/compat's startWatchdogMode() pings from its own timer. */
function markWatchdogStarted() {
  for (const markStarted of watchdogSwitches) markStarted()
}

function withDiagnostics(native, api) {
  let first = true
  let watchdogStarted = false
  watchdogSwitches.add(() => {
    watchdogStarted = true
  })

  const warn = (message, code) => process.emitWarning(message, { code, type: 'SdNotifyWarning' })

  function firstNotification() {
    first = false
    if (!native.available()) return
    // A cluster worker under clusterPrimary() sends nothing itself: its primary speaks for it.
    if (process.env.SD_NOTIFY_RS_CLUSTER === '1' && require('node:cluster').isWorker) return
    const execPid = Number(process.env.SYSTEMD_EXEC_PID)
    if (Number.isInteger(execPid) && execPid > 0 && execPid !== process.pid) {
      warn(
        `this process (pid ${process.pid}) is not the one systemd started (pid ${execPid}, SYSTEMD_EXEC_PID): under the default NotifyAccess=main systemd ignores its notifications, and a Type=notify start times out. Start node itself (ExecStart=/usr/bin/node /srv/app/server.js), replace a shell wrapper with exec (ExecStart=/bin/sh -c 'exec node server.js'), or set NotifyAccess=all.`,
        'SD_NOTIFY_RS_NOT_MAIN_PID',
      )
    }
  }

  let readySeen = false
  function afterReady() {
    // Once: later ready() calls (after a reload, say) pay only this test.
    if (readySeen) return
    readySeen = true
    if (watchdogStarted) return
    let enabled = null
    try {
      enabled = native.watchdogEnabled()
    } catch {}
    if (!enabled) return
    const timer = setTimeout(() => {
      if (watchdogStarted) return
      warn(
        `WatchdogSec= is set (${enabled.timeoutMs} ms) but no watchdog was started ${Math.round(enabled.timeoutMs / 2)} ms after ready(): systemd will kill and restart this service when the timeout passes. Call startWatchdog() (or remove WatchdogSec= from the unit).`,
        'SD_NOTIFY_RS_WATCHDOG_NOT_STARTED',
      )
    }, Math.max(1, Math.round(enabled.timeoutMs / 2)))
    timer.unref()
  }

  // A cluster worker under clusterPrimary() sends ready()/stopping() to its primary (lib/cluster.js),
  // decided at the first call; the primary marks its workers with SD_NOTIFY_RS_CLUSTER=1.
  let toPrimary = null
  const routed = () => {
    toPrimary ??= process.env.SD_NOTIFY_RS_CLUSTER === '1' && require('node:cluster').isWorker ? require('./cluster').sendToPrimary : false
    return toPrimary
  }

  // Two fixed parameters, no rest/apply: no notification function takes more, and this wrapper
  // sits on the hot path of every call.
  // The status this process last sent through the package (STATUS=), and how many it sent: a
  // reload (lib/reload.js) restores it afterwards, or keeps the one its handler sent.
  let statusText = null
  let statusGeneration = 0
  const noteStatus = (text) => {
    if (typeof text === 'string') {
      statusText = text
      statusGeneration++
    }
  }
  const noteFields = (fields) => {
    if (fields !== null && typeof fields === 'object' && Object.hasOwn(fields, 'STATUS')) noteStatus(String(fields.STATUS))
  }

  const wrap = (name, after) => {
    const fn = api[name]
    const canRoute = name === 'ready' || name === 'stopping'
    api[name] = function (a, b) {
      if (canRoute && routed()) return toPrimary(name, a)
      if (first) firstNotification()
      const result = fn(a, b)
      if (after) after(a)
      return result
    }
    Object.defineProperty(api[name], 'name', { value: name })
  }
  for (const name of ['watchdog', 'watchdogTrigger', 'setWatchdogTimeout', 'extendTimeout', 'mainPid', 'errno', 'busError', 'barrier', 'fdStore', 'fdStoreRemove']) {
    wrap(name)
  }
  for (const name of ['reloading', 'stopping', 'status']) wrap(name, noteStatus)
  wrap('notify', noteFields)
  wrap('ready', (status) => {
    noteStatus(status)
    afterReady()
  })
  /** `startWatchdog` that tells these diagnostics when a watchdog runs. */
  function watched(startWatchdog) {
    const wrapped = function startWatchdogWatched(options) {
      const watchdog = startWatchdog(options)
      if (watchdog) watchdogStarted = true
      return watchdog
    }
    Object.defineProperty(wrapped, 'name', { value: 'startWatchdog' })
    return wrapped
  }
  /** The last STATUS= sent through the package (null: none yet) and a count that changes with each. */
  const lastStatus = () => ({ text: statusText, generation: statusGeneration })
  return { watched, lastStatus }
}

module.exports = { withDiagnostics, markWatchdogStarted }
