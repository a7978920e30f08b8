'use strict'
// Node's cluster under systemd: one line more in the primary. Workers call the ready() they
// would call without cluster; the unit becomes active once every worker listens, and with
// WatchdogSec= one hung worker gets the service restarted.
const cluster = require('node:cluster')
const http = require('node:http')
const os = require('node:os')
const sd = require('sd-notify-rs')

const workers = Number(process.env.WORKERS || os.availableParallelism())
if (cluster.isPrimary) {
  sd.clusterPrimary({ workers }) // the one line more
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('exit', () => cluster.fork()) // a replacement is counted again once it is ready
} else {
  http.createServer((req, res) => res.end(`hello from ${process.pid}\n`)).listen(Number(process.env.PORT || 8080), () => sd.ready())
}
