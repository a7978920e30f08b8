'use strict'
// pino writing to the journal through the sd-notify-rs/pino transport (in a worker thread):
// every field searchable with `journalctl REQ_ID=...`, levels as journald priorities (pino tells the
// worker its messageKey and custom levels), the main script's name as SYSLOG_IDENTIFIER by default.
const http = require('node:http')
const pino = require('pino')
const sd = require('sd-notify-rs')

const log = pino({ level: 'debug' }, pino.transport({ target: 'sd-notify-rs/pino', options: { identifier: 'pino-app' } }))
const port = Number(process.env.PORT || 8080)
let next = 0

const server = http.createServer((req, res) => {
  const reqId = `req-${++next}`
  log.info({ reqId, req: { method: req.method, url: req.url } }, 'request')
  res.end('hello\n')
})

server.listen(port, '127.0.0.1', () => {
  log.debug({ port }, 'listening')
  log.warn({ configFile: '/etc/app.json' }, 'no config file, using defaults')
  log.error(Object.assign(new Error('cache unreachable'), { code: 'ECONNREFUSED' }), 'starting without a cache')
  sd.ready(`listening on 127.0.0.1:${port}`)
})
// On SIGTERM: STOPPING=1, finish in-flight requests, then hand every record to the journal
// (log.flush) before exiting.
sd.drainOnStop(server, { exit: (code) => log.flush(() => process.exit(code)) })
