'use strict'
// ready('generation 0'); on each SIGHUP, by hand: RELOADING=1 with MONOTONIC_USEC taken now
// (argv[2] 'monotonic', what reloading() sends), with none ('plain'), or with one taken before the
// signal ('stale'); then READY=1 after 200 ms. What Type=notify-reload makes of each.
const sd = require('../../..')
const report = require('./report')

const mode = process.argv[2] || 'monotonic'
const startedUsec = process.hrtime.bigint() / 1000n
let generation = 0
setInterval(() => {}, 1 << 30)

sd.ready(`generation ${generation}`)
report('ready', { generation, mode })

process.on('SIGHUP', () => {
  generation += 1
  const next = generation
  const fields = { RELOADING: 1, STATUS: `reloading to generation ${next}` }
  if (mode === 'monotonic') fields.MONOTONIC_USEC = process.hrtime.bigint() / 1000n
  else if (mode === 'stale') fields.MONOTONIC_USEC = startedUsec
  const sent = sd.notify(fields)
  report('reloading', { generation: next, sent, mode })
  setTimeout(() => report('ready', { generation: next, sent: sd.ready(`generation ${next}`) }), 200)
})
