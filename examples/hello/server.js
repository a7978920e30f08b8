'use strict'
// A Type=notify HTTP service: systemd considers it started only once it listens.
const http = require('node:http')
const sd = require('sd-notify-rs')

const port = Number(process.env.PORT || 8080)
const warmUpMs = Number(process.env.WARM_UP_MS || 1000) // stands in for loading config, connecting to a database...
let requests = 0

const server = http.createServer((req, res) => {
  requests++
  res.end('hello\n')
})

sd.status('warming up')
setTimeout(() => {
  server.listen(port, '127.0.0.1', () => {
    sd.ready(`listening on 127.0.0.1:${server.address().port}`)
  })
}, warmUpMs)

// The status line systemd shows follows the service's own state.
setInterval(() => {
  if (server.listening) sd.status(`listening on 127.0.0.1:${server.address().port}, ${requests} requests served`)
}, 1000).unref()

// On SIGTERM (systemctl stop, restart): STOPPING=1, stop accepting, let in-flight requests finish,
// close idle keep-alive connections after a grace, exit 0.
sd.drainOnStop(server)
