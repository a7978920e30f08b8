'use strict'
// Entry point: the native binding on Linux, the no-op layer elsewhere.

const native = process.platform === 'linux' ? require('./lib/loader').loadNative() : require('./lib/noop')
const { startWatchdogFor } = require('./lib/watchdog')
const { listenFds, listen, listenInfo } = require('./lib/listen').bindListen(native)
const { journal, Journal } = require('./lib/journal').bindJournal(native)

module.exports = {
  ready: native.ready,
  reloading: native.reloading,
  stopping: native.stopping,
  status: native.status,
  watchdog: native.watchdog,
  watchdogTrigger: native.watchdogTrigger,
  setWatchdogTimeout: native.setWatchdogTimeout,
  extendTimeout: native.extendTimeout,
  mainPid: native.mainPid,
  errno: native.errno,
  busError: native.busError,
  notify: native.notify,
  barrier: native.barrier,
  available: native.available,
  watchdogEnabled: native.watchdogEnabled,
  startWatchdog: startWatchdogFor(native),
  Watchdog: native.Watchdog,
  booted: native.booted,
  listenFds,
  fdStore: native.fdStore,
  fdStoreRemove: native.fdStoreRemove,
  listen,
  listenInfo,
  NotifyListener: native.NotifyListener,
  journal,
  Journal,
  JournalListener: native.JournalListener,
}
