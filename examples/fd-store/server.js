'use strict'
// An HTTP service that hands its listening socket to systemd's fd store: after a restart (a deploy,
// a crash with Restart=), the new process gets the same socket back from systemd instead of
// binding a new one, and connections made in between wait in the kernel's queue.
// The unit needs FileDescriptorStoreMax= > 0 (hello-fdstore.service).
//
//   sudo cp hello-fdstore.service /etc/systemd/system/   (fix ExecStart's path)
//   sudo systemctl daemon-reload && sudo systemctl start hello-fdstore
//   curl http://127.0.0.1:8080/              # {"pid":...,"inherited":false,"stored":true}
//   sudo systemctl restart hello-fdstore     # no connection is refused meanwhile
//   curl http://127.0.0.1:8080/              # {"pid":<new>,"fd":3,"name":"http","inherited":true}

const http = require('node:http')
const sd = require('../..') // require('sd-notify-rs') in your project

const port = Number(process.env.PORT || 8080)
const host = process.env.HOST || '127.0.0.1'

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ pid: process.pid, ...sd.listenInfo(server) }) + '\n')
})

// On SIGTERM: stop accepting, finish what was accepted, close idle keep-alive connections after a
// grace, exit 0. Closing our copy of the listening socket does not close the socket: systemd's copy
// keeps it listening, and connections made meanwhile wait in its queue for the next process.
sd.drainOnStop(server)

async function main() {
  // First start: listens on host:port and stores the socket as "http". After a restart: takes the
  // stored "http" socket back. fdStore: true because systemd < 254 does not announce its fd store
  // (from 254 on, the default 'auto' sees FDSTORE in the environment).
  await sd.listen(server, { name: 'http', port, host, fdStore: true })
  const { inherited, fd } = sd.listenInfo(server)
  sd.ready(inherited ? `serving on fd ${fd} from the fd store` : `serving on ${host}:${port}, socket stored`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
