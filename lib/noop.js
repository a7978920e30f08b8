'use strict'
// The API on platforms without a systemd notification socket (macOS, Windows, ...):
// every notification is a no-op that reports "not sent", so the same service code runs anywhere.

const unsupported = (what) => {
  const err = new Error(`sd-notify-rs: ${what} needs Linux (AF_UNIX datagram sockets with SO_PASSCRED)`)
  err.code = 'ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM'
  return err
}

const notSent = () => false

module.exports = {
  ready: notSent,
  reloading: notSent,
  stopping: notSent,
  status: notSent,
  watchdog: notSent,
  watchdogTrigger: notSent,
  setWatchdogTimeout: notSent,
  extendTimeout: notSent,
  mainPid: notSent,
  errno: notSent,
  busError: notSent,
  notify: notSent,
  barrier: async () => false,
  available: notSent,
  watchdogEnabled: () => null,
  startWatchdog: () => null,
  Watchdog: class Watchdog {
    constructor() {
      throw unsupported('Watchdog')
    }
  },
  booted: notSent,
  listenFds: () => [],
  fdStore: notSent,
  fdStoreRemove: notSent,
  NotifyListener: class NotifyListener {
    constructor() {
      throw unsupported('NotifyListener')
    }
  },
  JournalListener: class JournalListener {
    constructor() {
      throw unsupported('JournalListener')
    }
  },
}
