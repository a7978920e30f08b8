'use strict'
// startWatchdog(), ready(); healthy until SIGUSR1, which blocks the event loop for good.
// The watchdog must then stop pinging, and the manager must kill and restart the service.
const sd = require('../../..')
const report = require('./report')

const watchdog = sd.startWatchdog()
const enabled = sd.watchdogEnabled()
const readySent = sd.ready('healthy')
report('ready', { readySent, enabled, hasStop: typeof (watchdog && watchdog.stop) === 'function' })
setInterval(() => {}, 1 << 30)

process.on('SIGUSR1', () => {
  report('hanging')
  for (;;) {
    // a stuck event loop: no timer, no I/O, no ping from JavaScript can run any more
  }
})
