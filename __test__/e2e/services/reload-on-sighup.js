'use strict'
// ready('generation 0'); on each SIGHUP: reloading(), "reload" for argv[2] ms (default 1000),
// then ready('generation N'). Works for Type=notify + ExecReload=kill -HUP and Type=notify-reload.
const sd = require('../../..')
const report = require('./report')

const reloadMs = Number(process.argv[2] || 1000)
let generation = 0
setInterval(() => {}, 1 << 30)

sd.ready(`generation ${generation}`)
report('ready', { generation })

process.on('SIGHUP', () => {
  generation += 1
  const next = generation
  const sent = sd.reloading(`reloading to generation ${next}`)
  report('reloading', { generation: next, sent })
  setTimeout(() => {
    const readySent = sd.ready(`generation ${next}`)
    report('ready', { generation: next, sent: readySent })
  }, reloadMs)
})
