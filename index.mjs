// ESM entry: the same module instance as `require('sd-notify-rs')`, its names re-exported one by
// one (Node cannot see the names of index.js's `module.exports = { ... }` by itself). A new export
// of index.js goes here too: __test__/package.test.js fails until it does.
import sdNotify from './index.js'

export const {
  ready,
  reloading,
  stopping,
  status,
  watchdog,
  watchdogTrigger,
  setWatchdogTimeout,
  extendTimeout,
  mainPid,
  errno,
  busError,
  notify,
  barrier,
  available,
  watchdogEnabled,
  startWatchdog,
  Watchdog,
  booted,
  listenFds,
  fdStore,
  fdStoreRemove,
  listen,
  listenInfo,
  NotifyListener,
  journal,
  Journal,
  JournalListener,
} = sdNotify

export default sdNotify
