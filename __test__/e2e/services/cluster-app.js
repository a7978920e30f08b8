'use strict'
// A cluster of argv[2] workers; worker i listens after i * argv[3] ms (the slowest last). The
// primary has the one extra line. A worker hangs its event loop on SIGUSR1; the primary re-forks
// workers that die.
const cluster = require('node:cluster')
const http = require('node:http')
const sd = require('../../..')
const report = require('./report')

const n = Number(process.argv[2])
const stepMs = Number(process.argv[3])
if (cluster.isPrimary) {
  sd.clusterPrimary({ workers: n }) // the one line more
  for (let i = 0; i < n; i++) cluster.fork({ WORKER_INDEX: String(i) })
  cluster.on('exit', (worker, code, signal) => {
    report('worker-exit', { pid: worker.process.pid, code, signal })
    cluster.fork({ WORKER_INDEX: '0' })
  })
} else {
  const i = Number(process.env.WORKER_INDEX)
  const server = http.createServer((req, res) => res.end(`worker ${process.pid}\n`))
  setTimeout(() => server.listen(18280, '127.0.0.1', () => sd.ready()), i * stepMs)
  process.on('SIGUSR1', () => {
    for (;;); // this worker's event loop never returns
  })
}
