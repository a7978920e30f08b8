'use strict'
// For bench/loggers.js: logs argv[3] pino records tagged with runId argv[4], as JSON lines on
// stdout (argv[2] 'stdout'), into pino.destination('/dev/null') ('devnull': the event loop's floor),
// or through sd-notify-rs/pino in a worker ('transport'), then reports (one more stdout line,
// "E2E {...}") how long the logging loop took per record.
const pino = require('pino')

const [kind, count, runId] = process.argv.slice(2)
const n = Number(count)
const sync = kind !== 'transport'
const dest =
  kind === 'stdout'
    ? pino.destination({ fd: 1, sync: true })
    : kind === 'devnull'
      ? pino.destination('/dev/null')
      : pino.transport({ target: require.resolve('sd-notify-rs/pino'), options: { identifier: 'bench' } })
const log = pino(dest)
const go = () => {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) log.info({ runId, seq: i, reqId: 'abc123' }, 'request served')
  const loopUs = Number(process.hrtime.bigint() - t0) / n / 1000
  const done = () => process.stdout.write(`E2E ${JSON.stringify({ event: 'logged', loopUs })}\n`)
  if (sync) return done()
  const hold = setInterval(() => {}, 1000) // the worker is unref'd: hold the process until it closed
  dest.on('close', () => {
    clearInterval(hold)
    done()
  })
  dest.end()
}
if (sync) go()
else dest.once('ready', go)
