'use strict'
// A stop that finishes in-flight requests: drainOnStop() on SIGTERM stops accepting, closes idle
// keep-alive connections, and keeps extending the stop timeout until the last request is done.
const http = require('node:http')
const sd = require('sd-notify-rs')

const server = http.createServer((req, res) => {
  // Stands in for real work: a slow upstream, a long upload.
  setTimeout(() => res.end('done\n'), Number(process.env.WORK_MS || 5000))
})
sd.drainOnStop(server, { timeoutMs: 120_000 })
server.listen(Number(process.env.PORT || 8080), '127.0.0.1', () => sd.ready('serving'))
