'use strict'
// Talks to the manager but never says READY=1: a Type=notify start must time out.
const sd = require('../../..')
const report = require('./report')

const sent = sd.status('starting, and never ready')
report('status', { sent })
setInterval(() => {}, 1 << 30)
