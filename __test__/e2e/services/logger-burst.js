'use strict'
// For __test__/e2e/loggers-delivery.test.js: writes argv[3] records through one entry point
// (argv[2], the scenario) tagged RUN_ID=argv[4] (compat, which has no fields: MESSAGE
// `burst <id>`), then ends the process the way the scenario says. The test counts what journald
// holds once the unit has ended.
const [scenario, count, runId] = process.argv.slice(2)
const n = Number(count)

/** `{ k0: 'v0', ... }`: a record wider than journald takes. */
const wide = () => Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, `v${i}`]))

const scenarios = {
  'compat-exit'() {
    const { log } = require('sd-notify-rs/compat')
    for (let i = 0; i < n; i++) log.info(`burst ${runId}`)
    process.exit(0)
  },
  'pino-exit'() {
    const log = require('pino')(require('sd-notify-rs/pino')())
    for (let i = 0; i < n; i++) log.info({ runId, seq: i }, 'burst')
    process.exit(0)
  },
  'pino-flush-exit'() {
    const log = require('pino')(require('sd-notify-rs/pino')())
    for (let i = 0; i < n; i++) log.info({ runId, seq: i }, 'burst')
    log.flush(() => process.exit(0))
  },
  'pino-worker'() {
    const pino = require('pino')
    const log = pino(pino.transport({ target: 'sd-notify-rs/pino' }))
    for (let i = 0; i < n; i++) log.info({ runId, seq: i }, 'burst')
    // The process ends by itself: pino ends its worker at exit.
  },
  'winston-end'() {
    const winston = require('winston')
    const Journald = require('sd-notify-rs/winston')
    const log = winston.createLogger({ transports: [new Journald()] })
    for (let i = 0; i < n; i++) log.info('burst', { runId, seq: i })
    log.on('finish', () => process.exit(0)) // winston's documented way
    log.end()
  },
  'winston-exit'() {
    const winston = require('winston')
    const Journald = require('sd-notify-rs/winston')
    const log = winston.createLogger({ transports: [new Journald()] })
    for (let i = 0; i < n; i++) log.info('burst', { runId, seq: i })
    process.exit(0)
  },
  'wide-pino'() {
    const log = require('pino')(require('sd-notify-rs/pino')())
    log.info({ runId, ...wide() }, 'wide')
    log.flush(() => process.exit(0))
  },
  'wide-pino-worker'() {
    const pino = require('pino')
    pino(pino.transport({ target: 'sd-notify-rs/pino' })).info({ runId, ...wide() }, 'wide')
  },
  'wide-winston'() {
    const winston = require('winston')
    const Journald = require('sd-notify-rs/winston')
    const log = winston.createLogger({ transports: [new Journald()] })
    log.info('wide', { runId, ...wide() })
    log.on('finish', () => process.exit(0))
    log.end()
  },
  // zigbee2mqtt's start-up, under WatchdogSec=: no "watchdog not started" warning may follow.
  'compat-zigbee2mqtt'() {
    const sdNotify = require('sd-notify-rs/compat')
    sdNotify.startWatchdogMode(sdNotify.watchdogInterval() / 2)
    sdNotify.ready()
    setTimeout(() => sdNotify.stopping(), n).ref()
  },
}
scenarios[scenario]()
