'use strict'
// winston writing to the journal through the sd-notify-rs/winston transport: every field
// searchable with `journalctl USER_ID=...`, levels as journald priorities.
const http = require('node:http')
const winston = require('winston')
const JournaldTransport = require('sd-notify-rs/winston')
const sd = require('sd-notify-rs')

// `priorities` maps levels journald does not know (fatal and trace have defaults: 2 and 7).
const log = winston.createLogger({ level: 'debug', transports: [new JournaldTransport({ identifier: 'winston-app', priorities: { http: 'info' } })] })
const port = Number(process.env.PORT || 8080)

const server = http.createServer((req, res) => {
  log.info('request', { userId: 7, req: { method: req.method, url: req.url } })
  res.end('hello\n')
})

server.listen(port, '127.0.0.1', () => {
  log.debug('listening', { port })
  log.warn('no config file, using defaults', { configFile: '/etc/app.json' })
  log.error('starting without a cache', { error: Object.assign(new Error('cache unreachable'), { code: 'ECONNREFUSED' }) })
  sd.ready(`listening on 127.0.0.1:${port}`)
})
// On SIGTERM: STOPPING=1, finish in-flight requests, then end the logger: 'finish' comes once the
// journal has every entry, so nothing logged is lost at exit.
sd.drainOnStop(server, {
  exit: (code) => {
    log.on('finish', () => process.exit(code))
    log.end()
  },
})
