'use strict'
// sd-notify-rs/compat (the sd-notify 2.8 API), sd-notify-rs/pino and sd-notify-rs/winston, with
// real pino and winston, received through NotifyListener and JournalListener.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const path = require('node:path')
const { once } = require('node:events')
const { sd } = require('./helpers')

const ROOT = path.join(__dirname, '..')
let notifyListener
let journalListener

before(() => {
  notifyListener = new sd.NotifyListener()
  journalListener = new sd.JournalListener()
  process.env.NOTIFY_SOCKET = notifyListener.address
  // compat logs through the default journal, which reads this at its first send.
  process.env.SD_NOTIFY_RS_JOURNAL_SOCKET = journalListener.address
})
after(() => {
  notifyListener.close()
  journalListener.close()
  delete process.env.NOTIFY_SOCKET
  delete process.env.SD_NOTIFY_RS_JOURNAL_SOCKET
})

const compat = require('sd-notify-rs/compat')
const nextNotification = async () => (await notifyListener.receive(2000)).text
const nextEntry = async () => (await journalListener.receive(2000)).fields

test("sd-notify's own test: ready() returns undefined and sends READY=1", async () => {
  assert(compat.ready() === undefined)
  assert.equal(await nextNotification(), 'READY=1')
})

test("sd-notify's README: sendStatus(), watchdogInterval(), stopping(pid), watchdog()", async (t) => {
  compat.sendStatus('send some status to systemd')
  assert.equal(await nextNotification(), 'STATUS=send some status to systemd')
  assert.equal(compat.watchdogInterval(), 0, 'no WatchdogSec=: 0')
  process.env.WATCHDOG_USEC = '3000000'
  t.after(() => delete process.env.WATCHDOG_USEC)
  assert.equal(compat.watchdogInterval(), 3000, 'milliseconds, as sd-notify returns them')
  assert.equal(compat.stopping(process.pid), undefined)
  assert.equal(await nextNotification(), 'STOPPING=1')
  assert.equal(compat.watchdog(), undefined)
  assert.equal(await nextNotification(), 'WATCHDOG=1')
})

test("sd-notify's status example: sendState() of KEY=value lines sends them; a line that is no assignment is skipped with a warning", async () => {
  compat.sendState('STATUS=a\nX_STEP=2\n')
  assert.equal(await nextNotification(), 'STATUS=a\nX_STEP=2')
  const warned = new Promise((resolve) => process.once('warning', resolve))
  assert.equal(compat.sendState('test 1 after 1000 ms'), undefined) // examples/status/index.js
  assert.equal((await warned).code, 'SD_NOTIFY_RS_COMPAT_NOT_AN_ASSIGNMENT')
  await assert.rejects(notifyListener.receive(200), { code: 'ETIMEDOUT' }, 'nothing was sent for it')
})

test('sendStatus() refuses a text that would inject assignments (sd-notify passed it through)', async () => {
  assert.throws(() => compat.sendStatus('ok\nMAINPID=1'), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => compat.sendState('STATUS=ok\rMAINPID=1'), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  await assert.rejects(notifyListener.receive(200), { code: 'ETIMEDOUT' }, 'nothing was sent')
})

test("journalPrint() and every log.<level> of sd-notify write journal entries at sd-notify's levels", async () => {
  compat.journalPrint(3, 'disk', 'full')
  const first = await nextEntry()
  assert.deepEqual([first.PRIORITY, first.MESSAGE], ['3', 'disk full'])
  const levels = { emerg: 0, emergency: 0, alert: 1, crit: 2, critical: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7 }
  for (const [name, priority] of Object.entries(levels)) {
    assert.equal(compat.log[name]('via', name, 42), undefined)
    const e = await nextEntry()
    assert.deepEqual([e.PRIORITY, e.MESSAGE], [String(priority), `via ${name} 42`])
  }
  compat.log.info(['typed', 'as @types/sd-notify says'])
  assert.equal((await nextEntry()).MESSAGE, 'typed,as @types/sd-notify says', "sd-notify's args.join(' ') of one array")
  compat.journalPrint(['array', 'form'])
  const e = await nextEntry()
  assert.deepEqual([e.PRIORITY, e.MESSAGE], ['6', 'array form'])
})

test('startWatchdogMode() pings on an unref\'d timer: a second call replaces the first, and the process still exits by itself', async () => {
  const script = `
    const c = require('sd-notify-rs/compat')
    c.startWatchdogMode(50)
    c.startWatchdogMode(50) // sd-notify would now run two timers, forever
    setTimeout(() => {}, 520) // the only thing keeping the process alive
  `
  const started = Date.now()
  const r = cp.spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env }, timeout: 10_000 })
  const elapsed = Date.now() - started
  assert.equal(r.status, 0, String(r.stderr))
  let pings = 0
  for (;;) {
    try {
      if ((await notifyListener.receive(100)).text === 'WATCHDOG=1') pings++
    } catch {
      break
    }
  }
  assert.ok(pings >= 3, `${pings} pings`)
  assert.ok(pings <= Math.ceil(elapsed / 50) + 1, `${pings} pings in ${elapsed} ms: one timer, not two`)
})

test("nothing of compat, pino or winston loads at require('sd-notify-rs')", () => {
  const script = `require('sd-notify-rs'); console.log(JSON.stringify(Object.keys(require.cache)))`
  const loaded = JSON.parse(cp.execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }))
  const offending = loaded.filter((f) => /integrations|node_modules[\\/](pino|winston)/.test(f))
  assert.deepEqual(offending, [])
})

test('the compat ESM entry has the same functions', async () => {
  const esm = await import('sd-notify-rs/compat')
  for (const name of Object.keys(compat)) assert.equal(esm[name], compat[name], name)
})

// ---- pino ----

const pino = require('pino')
const pinoJournal = require('sd-notify-rs/pino')

test('pino in-process: levels become PRIORITY, msg MESSAGE, fields searchable names, err keeps its stack', async () => {
  const log = pino({ level: 'trace' }, pinoJournal({ socket: journalListener.address, identifier: 'pino-test' }))
  log.info({ reqId: 'r-1', req: { method: 'GET', url: '/x' }, tags: ['a', 'b'], ms: 12 }, 'served')
  let e = await nextEntry()
  assert.deepEqual(
    [e.MESSAGE, e.PRIORITY, e.REQ_ID, e.REQ_METHOD, e.REQ_URL, e.TAGS, e.MS, e.SYSLOG_IDENTIFIER],
    ['served', '6', 'r-1', 'GET', '/x', ['a', 'b'], '12', 'pino-test'],
  )
  assert.equal('TIME' in e || 'PID' in e || 'HOSTNAME' in e, false, 'journald records those itself')
  const levels = { trace: '7', debug: '7', info: '6', warn: '4', error: '3', fatal: '2' }
  for (const [level, priority] of Object.entries(levels)) {
    log[level](`at ${level}`)
    e = await nextEntry()
    assert.deepEqual([e.MESSAGE, e.PRIORITY], [`at ${level}`, priority])
  }
  log.error(Object.assign(new Error('db down'), { code: 'ECONNREFUSED' }), 'query failed')
  e = await nextEntry()
  assert.deepEqual([e.MESSAGE, e.PRIORITY, e.ERR, e.ERR_TYPE, e.ERR_CODE], ['query failed', '3', 'db down', 'Error', 'ECONNREFUSED'])
  assert.match(e.ERR_STACK, /^Error: db down\n\s+at /)
})

test('pino options: fields keeps only the listed keys, exclude and prefix apply', async () => {
  const keep = pino(pinoJournal({ socket: journalListener.address, fields: ['reqId'] }))
  keep.info({ reqId: 'r-2', secret: 'no' }, 'kept')
  let e = await nextEntry()
  assert.deepEqual([e.REQ_ID, 'SECRET' in e], ['r-2', false])
  const prefixed = pino(pinoJournal({ socket: journalListener.address, prefix: 'app', exclude: ['time'] }))
  prefixed.info({ reqId: 'r-3' }, 'prefixed')
  e = await nextEntry()
  assert.deepEqual([e.APP_REQ_ID, e.APP_PID], ['r-3', String(process.pid)])
})

test('pino.transport({ target: "sd-notify-rs/pino" }) runs in a worker thread and delivers every entry', async () => {
  const transport = pino.transport({ target: 'sd-notify-rs/pino', options: { socket: journalListener.address, identifier: 'pino-worker' } })
  const log = pino(transport)
  for (let i = 0; i < 5; i++) log.warn({ seq: i }, 'from the worker')
  const seqs = []
  for (let i = 0; i < 5; i++) {
    const e = await nextEntry()
    assert.deepEqual([e.MESSAGE, e.PRIORITY, e.SYSLOG_IDENTIFIER], ['from the worker', '4', 'pino-worker'])
    seqs.push(Number(e.SEQ))
  }
  assert.deepEqual(seqs.sort(), [0, 1, 2, 3, 4])
  // pino's worker is unref'd: nothing of it holds this process while it finishes, so a timer does.
  const hold = setInterval(() => {}, 1000)
  const closed = once(transport, 'close')
  transport.end()
  await closed
  clearInterval(hold)
})

// ---- winston ----

const winston = require('winston')
const JournaldTransport = require('sd-notify-rs/winston')

test('winston: npm and syslog levels become PRIORITY, message MESSAGE, metadata searchable fields', async () => {
  const transport = new JournaldTransport({ socket: journalListener.address, identifier: 'winston-test' })
  const log = winston.createLogger({ level: 'silly', format: winston.format.combine(winston.format.colorize(), winston.format.json()), transports: [transport] })
  log.warn('careful', { userId: 7, req: { path: '/p' }, tags: ['x', 'y'] })
  let e = await nextEntry()
  assert.deepEqual(
    [e.MESSAGE, e.PRIORITY, e.USER_ID, e.REQ_PATH, e.TAGS, e.SYSLOG_IDENTIFIER],
    ['careful', '4', '7', '/p', ['x', 'y'], 'winston-test'],
  )
  const npm = { error: '3', warn: '4', info: '6', http: '6', verbose: '7', debug: '7', silly: '7' }
  for (const [level, priority] of Object.entries(npm)) {
    log.log(level, `at ${level}`)
    e = await nextEntry()
    assert.deepEqual([e.MESSAGE, e.PRIORITY], [`at ${level}`, priority], 'colorize() does not change the priority')
  }
  const syslog = winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', transports: [new JournaldTransport({ socket: journalListener.address })] })
  for (const [level, priority] of Object.entries({ emerg: '0', alert: '1', crit: '2', error: '3', warning: '4', notice: '5', info: '6', debug: '7' })) {
    syslog.log(level, `syslog ${level}`)
    e = await nextEntry()
    assert.deepEqual([e.MESSAGE, e.PRIORITY], [`syslog ${level}`, priority])
  }
  log.error('failed', { error: new TypeError('bad type') })
  e = await nextEntry()
  assert.deepEqual([e.MESSAGE, e.ERROR, e.ERROR_TYPE], ['failed', 'bad type', 'TypeError'])
  assert.match(e.ERROR_STACK, /^TypeError: bad type/)
})

test('the transports refuse options they cannot use, with a code', () => {
  assert.throws(() => pinoJournal({ fields: 'reqId' }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => new JournaldTransport({ exclude: [1] }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => pinoJournal({ identifier: 5 }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
})
