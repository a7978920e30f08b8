'use strict'
// An HTTP service for any runtime (Node.js, Bun, Deno): a node:net server (Bun's node:http server
// cannot take a passed socket) on the socket systemd passes as "http", ready() once it serves,
// and on SIGTERM stopping() confirmed by barrier() before a clean exit. Each response says which
// runtime answered. With argv[2] `store` and no passed socket, it listens on $PORT itself and
// hands the socket to the fd store (FileDescriptorStoreMax=), so the next process inherits it.
const net = require('node:net')
const sd = require('../../..')
const report = require('./report')

const runtime = process.versions.bun ? `bun ${process.versions.bun}` : process.versions.deno ? `deno ${process.versions.deno}` : `node ${process.versions.node}`

const server = net.createServer((socket) => {
  socket.once('data', () => {
    const body = JSON.stringify({ runtime, pid: process.pid })
    socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })
  socket.on('error', () => {})
})

const store = process.argv[2] === 'store'
const options = store ? { name: 'http', fdStore: true, host: '127.0.0.1', port: Number(process.env.PORT) } : { name: 'http', fdStore: false }
sd.listen(server, options)
  .then(() => {
    const readySent = sd.ready(`serving on ${runtime}`)
    report('ready', { runtime, readySent, listen: sd.listenInfo(server) })
  })
  .catch((err) => {
    report('failed', { runtime, code: err.code, message: err.message })
    process.exitCode = 1
  })

process.on('SIGTERM', async () => {
  const sent = sd.stopping(`stopping on ${runtime}`)
  const processed = await sd.barrier(2000)
  report('stopping', { runtime, sent, processed })
  server.close()
})
