'use strict'
// onReload(): each reload waits argv[2] ms (re-reading configuration, say) and sets the status;
// with argv[3] = 'fail', the second reload fails with an ENOENT-like error; with argv[3] =
// 'break-socket', every notification after READY=1 fails (NOTIFY_SOCKET names no socket).
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
if (process.argv[3] === 'break-socket') process.env.NOTIFY_SOCKET = '/run/sd-notify-rs-e2e/no-such-socket'
setInterval(() => {}, 1 << 30)
