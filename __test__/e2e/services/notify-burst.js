'use strict'
// Type=notify; on SIGUSR1 sends `count` STATUS= notifications back to back (argv[2]), timing
// every call: the longest call is how long the event loop stood still. Errors are counted by
// code, never thrown out. Then reports and idles (the last STATUS= tells the manager's view).
const sd = require('../../..')
const report = require('./report')

const count = Number(process.argv[2] || 2000)
sd.ready('idle')
setInterval(() => {}, 1 << 30)
process.on('SIGUSR1', () => {
  const errors = {}
  let sent = 0
  let maxCallMs = 0
  const started = performance.now()
  for (let i = 1; i <= count; i++) {
    const t0 = performance.now()
    try {
      if (sd.status(`burst ${i}`)) sent++
    } catch (err) {
      errors[err.code] = (errors[err.code] || 0) + 1
    }
    maxCallMs = Math.max(maxCallMs, performance.now() - t0)
  }
  // The last word, sent after the burst so it is what the manager shows when all went through.
  let final
  try {
    final = sd.status(`done ${count}`)
  } catch (err) {
    final = err.code
  }
  report('burst', { count, sent, errors, maxCallMs, totalMs: performance.now() - started, final })
})
