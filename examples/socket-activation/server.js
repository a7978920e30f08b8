'use strict'
// An HTTP service behind socket activation: systemd owns the listening socket (hello-socket.socket)
// and starts this service on the first connection. Connections made while the service restarts
// wait in the kernel's queue instead of being refused. Run without systemd, it listens on PORT itself.
//
//   sudo cp hello-socket.socket hello-socket.service /etc/systemd/system/   (fix ExecStart's path)
//   sudo systemctl daemon-reload && sudo systemctl start hello-socket.socket
//   curl http://127.0.0.1:8080/          # starts hello-socket.service
//   sudo systemctl restart hello-socket.service   # no connection is refused meanwhile

const http = require('node:http')
const sd = require('../..') // require('sd-notify-rs') in your project

const port = Number(process.env.PORT || 8080)
const host = process.env.HOST || '127.0.0.1'

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  // listenInfo says where the socket came from: { fd: 3, name: 'http', inherited: true, ... }
  res.end(JSON.stringify({ pid: process.pid, ...sd.listenInfo(server) }) + '\n')
})

// On SIGTERM: stop accepting, finish what was accepted, close idle keep-alive connections after a
// grace, exit 0. Closing our copy of the listening socket does not close the socket: systemd's copy
// keeps it listening, and connections made meanwhile wait in its queue for the next process.
sd.drainOnStop(server)

async function main() {
  // The socket unit passes its socket named by FileDescriptorName=http; port/host are the fallback.
  await sd.listen(server, { name: 'http', port, host })
  const { inherited, fd } = sd.listenInfo(server)
  sd.ready(inherited ? `serving on fd ${fd} passed by systemd` : `serving on ${host}:${port}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
