'use strict'
// Needs longer than TimeoutStartSec= to start: asks for argv[3] ms more (default 1000) every
// argv[4] ms (default 500), and calls ready() at argv[2] ms (default 2500).
const sd = require('../../..')
const report = require('./report')

const readyAtMs = Number(process.argv[2] || 2500)
const extendMs = Number(process.argv[3] || 1000)
const everyMs = Number(process.argv[4] || 500)
const started = Date.now()
setInterval(() => {}, 1 << 30)

const extend = () => sd.extendTimeout(extendMs)
report('extend', { sent: extend() })
const extender = setInterval(extend, everyMs)

setTimeout(() => {
  clearInterval(extender)
  const sent = sd.ready(`ready after ${Date.now() - started} ms`)
  report('ready', { sent, afterMs: Date.now() - started })
}, readyAtMs)
