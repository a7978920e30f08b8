'use strict'
// A service that sends READY=1 at once and registers onReload() only on SIGUSR1, so that a test
// can let a squatter bind its reload channel first. The handler reports 'reloaded'.
const sd = require('../../..')
const report = require('./report')

sd.ready('serving')
setInterval(() => {}, 1 << 30)
process.once('SIGUSR1', () => {
  sd.onReload(() => report('reloaded'))
  report('registered')
})
