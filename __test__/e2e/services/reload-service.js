'use strict'
// onReload(): each reload waits argv[2] ms (re-reading configuration, say) and sets the status;
// with argv[3] = 'fail', the second reload fails with an ENOENT-like error.
const sd = require('../../..')
const report = require('./report')

const delayMs = Number(process.argv[2] || 0)
const failSecond = process.argv[3] === 'fail'
let reloads = 0
sd.onReload(async () => {
  reloads++
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  if (failSecond && reloads === 2) throw Object.assign(new Error('config.json: no such file'), { errno: -2, code: 'ENOENT' })
  report('reloaded', { reloads })
})
sd.ready('serving')
setInterval(() => {}, 1 << 30)
