'use strict'
// A stop that finishes in-flight requests and drops none: drainOnStop() on SIGTERM stops
// accepting, answers every request still arriving on a kept-alive connection with
// `Connection: close`, closes connections left idle, and keeps extending the stop timeout until the
// last request is done. listen() keeps the listening socket in systemd's fd store
// (FileDescriptorStoreMax=1 in drain.service), so connections made during a restart wait in its
// queue for the next process instead of being refused.
//
//   sudo cp drain.service /etc/systemd/system/   (fix ExecStart's path)
//   sudo systemctl daemon-reload && sudo systemctl start drain
//   curl http://127.0.0.1:8080/ &  sudo systemctl restart drain   # the request still gets its answer
const http = require('node:http')
const sd = require('../..') // require('sd-notify-rs') in your project

const port = Number(process.env.PORT || 8080)
// Stands in for real work: a slow upstream, a long upload.
const workMs = Number(process.env.WORK_MS ?? 5000)

const server = http.createServer((req, res) => {
  setTimeout(() => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ pid: process.pid }) + '\n')
  }, workMs)
})
sd.drainOnStop(server, { timeoutMs: 120_000 })
sd.listen(server, { name: 'http', port, host: '127.0.0.1', fdStore: true }).then(
  () => sd.ready(sd.listenInfo(server).inherited ? 'serving on the socket from the fd store' : `serving on 127.0.0.1:${port}`),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
