'use strict'
// A Type=notify service with a running watchdog that sends STATUS=tick <n> every 50 ms and
// counts every send that threw; SIGUSR2 makes it report the counts. Used while the manager is
// re-executed or reloaded, stopped with SIGSTOP, and so on.
const sd = require('../../..')
const report = require('./report')

const watchdog = sd.startWatchdog()
let ticks = 0
let failures = 0
let lastError = null
setInterval(() => {
  try {
    sd.status(`tick ${++ticks}`)
  } catch (err) {
    failures++
    lastError = err.code
  }
}, 50)
process.on('SIGUSR2', () => report('counts', { ticks, failures, lastError, watchdog: watchdog && watchdog.stats() }))
sd.ready('tick 0')
