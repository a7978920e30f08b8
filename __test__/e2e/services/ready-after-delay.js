'use strict'
// Calls ready() after argv[2] ms (default 0), then serves until stopped.
// SIGTERM: stopping(), then a clean exit once the manager has seen it (barrier).
// SIGUSR2: stops by itself: stopping(), then exits cleanly 500 ms later.
const sd = require('../../..')
const report = require('./report')

const delayMs = Number(process.argv[2] || 0)
const keepAlive = setInterval(() => {}, 1 << 30)

setTimeout(() => {
  const sent = sd.ready(`ready after ${delayMs} ms`)
  report('ready', { sent })
}, delayMs)

process.on('SIGTERM', async () => {
  const sent = sd.stopping('stopping on SIGTERM')
  const processed = await sd.barrier(2000)
  report('stopping', { sent, processed })
  clearInterval(keepAlive)
  process.exitCode = 0
})

process.on('SIGUSR2', () => {
  const sent = sd.stopping('stopping by itself')
  report('stopping', { sent })
  setTimeout(() => clearInterval(keepAlive), 500)
})
