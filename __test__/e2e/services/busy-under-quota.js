'use strict'
// A healthy but busy service: startWatchdog(), ready(), then CPU work in 5 ms slices forever,
// yielding to the event loop between slices. Under a CPU quota it is throttled most of the time;
// its event loop still answers, so the watchdog must keep pinging. SIGUSR2 reports the stats.
const sd = require('../../..')
const report = require('./report')

const watchdog = sd.startWatchdog()
sd.ready('busy')
let slices = 0
function slice() {
  const end = performance.now() + 5
  while (performance.now() < end);
  slices++
  setImmediate(slice)
}
slice()
process.on('SIGUSR2', () => report('stats', { slices, watchdog: watchdog && watchdog.stats() }))
