'use strict'
// An HTTP server whose GET /slow answers after argv[3] ms, stopped with drainOnStop(): a stop
// during a slow request must wait for it, extending TimeoutStopSec= as long as it drains. With
// argv[4] = 'break-socket', every notification after READY=1 fails (NOTIFY_SOCKET names no socket).
const http = require('node:http')
const sd = require('../../..')
const report = require('./report')

const port = Number(process.argv[2])
const slowMs = Number(process.argv[3])
const server = http.createServer((req, res) => {
  if (req.url !== '/slow') return res.end('ok\n')
  report('in-flight', {}) // the test stops the unit only now
  setTimeout(() => res.end('slow done\n'), slowMs)
})
sd.drainOnStop(server, {
  extendMs: 500,
  exit: (code) => {
    report('drained', { code })
    process.exit(code)
  },
})
server.listen(port, '127.0.0.1', () => {
  sd.ready(`listening on ${port}`)
  if (process.argv[4] === 'break-socket') process.env.NOTIFY_SOCKET = '/run/sd-notify-rs-e2e/no-such-socket'
})
