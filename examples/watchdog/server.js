'use strict'
// A service under WatchdogSec=: pings only while its event loop answers. Send it SIGUSR2 to
// simulate a hang (a synchronous infinite loop) and watch systemd restart it.
const http = require('node:http')
const sd = require('sd-notify-rs')

const port = Number(process.env.PORT || 8081)
const server = http.createServer((req, res) => res.end('alive\n'))

server.listen(port, '127.0.0.1', () => {
  const dog = sd.startWatchdog() // null when the unit has no WatchdogSec=
  sd.ready(dog ? `watchdog every ${dog.intervalMs} ms` : 'no watchdog requested')
})

process.on('SIGUSR2', () => {
  sd.status('event loop blocked on purpose')
  for (;;); // the event loop never returns: no more pings, systemd kills and restarts us
})
