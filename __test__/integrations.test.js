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

/** The WATCHDOG=1 datagrams waiting at the notify listener (read until 100 ms pass with none). */
async function pingsReceived() {
  let pings = 0
  for (;;) {
    try {
      if ((await notifyListener.receive(100)).text === 'WATCHDOG=1') pings++
    } catch {
      return pings
    }
  }
}

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
  const pings = await pingsReceived()
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
  const closed = once(transport, 'close')
  transport.end()
  await held(closed)
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

// ---- every value kept, folding, delivery (the journal issue) ----

const { MAX_FIELDS } = require('../lib/journal')

/** journald's count of an entry's fields: a repeated field once per value. */
const fieldCount = (fields) => Object.values(fields).reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0)

/** `{ k0: 'v0', ..., k<n-1>: 'v<n-1>' }` */
const manyFields = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]))

/** Every k<i> of a received entry, from its own fields and FIELDS_JSON. */
function keptValues(e, n) {
  const folded = e.FIELDS_JSON === undefined ? {} : JSON.parse(e.FIELDS_JSON)
  const missing = []
  for (let i = 0; i < n; i++) if ((e[`K${i}`] ?? folded[`K${i}`]) !== `v${i}`) missing.push(i)
  return missing
}

/** Child processes of these tests log to `journalListener` via SD_NOTIFY_RS_JOURNAL_SOCKET or a socket option. */
async function runChild(script, env = {}) {
  const child = cp.spawn(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const [status] = await once(child, 'close')
  return { status, stdout, stderr }
}

/** pino's worker is unref'd: while a test waits on it, a timer holds this process. */
async function held(promise) {
  const hold = setInterval(() => {}, 1000)
  try {
    return await promise
  } finally {
    clearInterval(hold)
  }
}

/** The next `n` entries (fewer if none comes within 2 s). */
async function entries(n, listener = journalListener) {
  const out = []
  while (out.length < n) {
    try {
      out.push((await listener.receive(2000)).fields)
    } catch {
      break
    }
  }
  return out
}

test('a 3,000-field record arrives through pino (in-process and worker) and winston: MAX_FIELDS fields at most, the excess in FIELDS_JSON', async () => {
  const record = manyFields(3000)
  pino(pinoJournal({ socket: journalListener.address })).info(record, 'wide')
  const transport = pino.transport({ target: 'sd-notify-rs/pino', options: { socket: journalListener.address } })
  pino(transport).info(record, 'wide')
  winston.createLogger({ transports: [new JournaldTransport({ socket: journalListener.address })] }).info('wide', record)
  for (const e of await entries(3)) {
    assert.equal(e.MESSAGE, 'wide')
    assert.ok(fieldCount(e) <= MAX_FIELDS, `${fieldCount(e)} fields: journald drops an entry with more than it can take`)
    assert.deepEqual(keptValues(e, 3000), [], 'every value is in the entry, in its own field or in FIELDS_JSON')
  }
  const closed = once(transport, 'close')
  transport.end()
  await held(closed)
})

test('keys that map to one name all survive, as a repeated field; repeated values count against MAX_FIELDS', async () => {
  pino(pinoJournal({ socket: journalListener.address })).info({ reqId: 'a', req_id: 'b', 'req-id': 'c' }, 'collide')
  winston.createLogger({ transports: [new JournaldTransport({ socket: journalListener.address })] }).info('collide', { reqId: 'a', req_id: 'b', 'req-id': 'c' })
  for (const e of await entries(2)) assert.deepEqual([e.MESSAGE, e.REQ_ID], ['collide', ['a', 'b', 'c']])
  // 2,000 values of one array: repeated, so counted one by one.
  pino(pinoJournal({ socket: journalListener.address })).info({ tags: Array.from({ length: 2000 }, (_, i) => `t${i}`) }, 'many tags')
  const e = await nextEntry()
  assert.ok(fieldCount(e) <= MAX_FIELDS, `${fieldCount(e)} fields`)
  const tags = e.TAGS ?? JSON.parse(e.FIELDS_JSON).TAGS
  assert.equal(tags.length, 2000)
})

test('non-ASCII keys keep distinct names (U<code point>), a key with no name at all keeps its value in FIELDS_JSON', async () => {
  const record = { café: 'c', cafe: 'plain', naïve: 'n', 用户: 'u', 名前: 'name', '': 'empty', '--': 'dashes' }
  pino(pinoJournal({ socket: journalListener.address })).info(record, 'keys')
  winston.createLogger({ transports: [new JournaldTransport({ socket: journalListener.address })] }).info('keys', record)
  for (const e of await entries(2)) {
    assert.deepEqual([e.CAF_UE9, e.CAFE, e.NA_UEF_VE, e.U7528_U6237, e.U540D_U524D], ['c', 'plain', 'n', 'u', 'name'])
    assert.deepEqual(JSON.parse(e.FIELDS_JSON), { '': 'empty', '--': 'dashes' })
  }
})

test("pino's worker gets the logger's messageKey, errorKey and custom levels; the priorities option names a custom level's priority", async () => {
  const transport = pino.transport({ target: 'sd-notify-rs/pino', options: { socket: journalListener.address, priorities: { audit: 'notice' } } })
  const log = pino({ messageKey: 'text', errorKey: 'failure', customLevels: { audit: 35, page: 55 }, level: 'trace' }, transport)
  log.audit({ user: 'u1' }, 'audited')
  log.page('paged') // no priority given: by its number, between error (50) and fatal (60)
  log.fatal('fatal')
  log.trace('traced')
  log.error({ failure: new Error('broke') }, 'with a custom error key')
  const got = await entries(5)
  assert.deepEqual(
    got.map((e) => [e.MESSAGE, e.PRIORITY]),
    [
      ['audited', '5'],
      ['paged', '3'],
      ['fatal', '2'],
      ['traced', '7'],
      ['with a custom error key', '3'],
    ],
  )
  assert.equal('TEXT' in got[0], false, 'the messageKey is MESSAGE, not a field of its own')
  assert.match(got[4].FAILURE_STACK, /^Error: broke\n/)
  assert.notEqual(got[0].SYSLOG_IDENTIFIER, 'worker', "the main script's name, not the worker's")
  const closed = once(transport, 'close')
  transport.end()
  await held(closed)
})

test('pino in-process: messageKey and priorities as options, custom level names from the logger', async () => {
  const log = pino({ messageKey: 'text', customLevels: { audit: 35 } }, pinoJournal({ socket: journalListener.address, messageKey: 'text', priorities: { audit: 'notice' } }))
  log.audit('audited')
  log.fatal('fatal')
  assert.deepEqual(
    (await entries(2)).map((e) => [e.MESSAGE, e.PRIORITY]),
    [
      ['audited', '5'],
      ['fatal', '2'],
    ],
  )
})

test("the worker's SYSLOG_IDENTIFIER is the main script's name", () => {
  const script = `
    const pino = require('pino')
    const sd = require('sd-notify-rs')
    const t = pino.transport({ target: 'sd-notify-rs/pino', options: { socket: process.env.SOCK } })
    pino(t).info('who')
    t.on('close', () => {})
    setTimeout(() => t.end(), 300)
  `
  const fs = require('node:fs')
  const file = path.join(ROOT, '__test__', `.ident-${process.pid}.js`)
  fs.writeFileSync(file, script)
  try {
    const listener = new sd.JournalListener()
    const r = cp.spawnSync(process.execPath, ['--no-warnings', file], { cwd: ROOT, env: { ...process.env, SOCK: listener.address }, encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 0, r.stderr)
    return listener.receive(2000).then(({ fields }) => {
      listener.close()
      assert.equal(fields.SYSLOG_IDENTIFIER, `.ident-${process.pid}`)
    })
  } finally {
    fs.rmSync(file)
  }
})

test('pino in-process: flushSync() hands every record written so far to the journal before it returns', async () => {
  const r = await runChild(`
    const pino = require('pino')
    const dest = require('sd-notify-rs/pino')({ socket: '@sd-notify-rs-nobody-${process.pid}' })
    const log = pino(dest)
    for (let i = 0; i < 300; i++) log.info({ seq: i }, 'burst')
    let drops = 0
    dest.on('drop', () => drops++)
    dest.flushSync()
    console.log(drops)
  `)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), '300', 'each record met the journal (here: none listening) before flushSync() returned')
})

// The flushSync() row needs the journal's flush at process exit: records handed over but still
// queued for a slower reader go out before the process does.
for (const [how, finish] of [
  ['stream.flushSync() then process.exit(0)', 'dest.flushSync(); process.exit(0)'],
  ['log.flush(cb) then process.exit(0) in cb', 'log.flush(() => process.exit(0))'],
]) {
  test(`pino in-process: ${how} delivers every record`, async () => {
    const n = 300
    const received = entries(n)
    const r = await runChild(`
      const pino = require('pino')
      const dest = require('sd-notify-rs/pino')({ socket: process.env.SD_NOTIFY_RS_JOURNAL_SOCKET })
      const log = pino(dest)
      for (let i = 0; i < ${n}; i++) log.info({ seq: i }, 'burst')
      ${finish}
    `)
    assert.equal(r.status, 0, r.stderr)
    const got = await received
    assert.equal(got.length, n, `${got.length} of ${n} arrived`)
  })
}

test("winston: logger.end() emits 'finish' only once the journal has taken every entry", async () => {
  const slow = new sd.JournalListener() // not read yet: its queue fills and entries wait in ours
  const transport = new JournaldTransport({ socket: slow.address })
  const log = winston.createLogger({ transports: [transport] })
  const n = 2000
  for (let i = 0; i < n; i++) log.info('burst', { seq: i })
  let finished = false
  const done = once(log, 'finish').then(() => {
    finished = true
    return transport.journal.stats()
  })
  log.end()
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(finished, false, "'finish' waits while entries are still queued")
  const got = await entries(n, slow)
  const stats = await done
  slow.close()
  assert.equal(got.length, n)
  assert.equal(stats.queued, 0, 'nothing was left in the queue at finish')
})

test('winston: fatal and trace have default priorities, the priorities option maps custom levels, logger.error(err) keeps the stack', async () => {
  const levels = { fatal: 0, error: 1, warn: 2, audit: 3, info: 4, trace: 5, whisper: 6 }
  const log = winston.createLogger({ levels, level: 'whisper', transports: [new JournaldTransport({ socket: journalListener.address, priorities: { audit: 'notice', whisper: 7 } })] })
  for (const level of Object.keys(levels)) log.log(level, `at ${level}`)
  assert.deepEqual(
    (await entries(7)).map((e) => [e.MESSAGE, e.PRIORITY]),
    [
      ['at fatal', '2'],
      ['at error', '3'],
      ['at warn', '4'],
      ['at audit', '5'],
      ['at info', '6'],
      ['at trace', '7'],
      ['at whisper', '7'],
    ],
  )
  log.error(new Error('x'))
  const e = await nextEntry()
  assert.deepEqual([e.MESSAGE, e.PRIORITY], ['x', '3'])
  assert.match(e.STACK, /^Error: x\n\s+at /)
  assert.throws(() => new JournaldTransport({ priorities: { audit: 9 } }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
})

test('winston: an error among its own fields (e.self = e, two errors naming each other) still arrives', async () => {
  const log = winston.createLogger({ transports: [new JournaldTransport({ socket: journalListener.address })] })
  const e = new Error('boom')
  e.self = e
  const a = new TypeError('a')
  const b = new RangeError('b')
  a.peer = b
  b.peer = a
  log.info('cyclic', { err: e })
  log.info('pair', { failure: a })
  const [first, second] = await entries(2)
  assert.deepEqual([first.MESSAGE, first.ERR, first.ERR_SELF, first.ERR_SELF_SELF], ['cyclic', 'boom', 'boom', 'boom'])
  assert.equal(first.ERR_SELF_SELF_SELF, 'Error: boom', 'past the depth limit: as text')
  assert.deepEqual([second.MESSAGE, second.FAILURE, second.FAILURE_PEER, second.FAILURE_PEER_PEER], ['pair', 'a', 'b', 'a'])
  assert.equal(second.FAILURE_PEER_PEER_PEER, 'RangeError: b')
})

test("an entry the journal cannot take is pino's 'drop' event (in-process and worker) and winston's 'warn'", async () => {
  const nowhere = '/nonexistent/sd-notify-rs/journal'
  const dest = pinoJournal({ socket: nowhere })
  const dropped = once(dest, 'drop')
  pino(dest).info({ seq: 1 }, 'lost')
  const [record, err] = await dropped
  assert.deepEqual([record.msg, err.code], ['lost', 'ENOENT'])
  assert.equal(typeof err.stats.dropped, 'number')

  const transport = pino.transport({ target: 'sd-notify-rs/pino', options: { socket: nowhere } })
  const fromWorker = once(transport, 'drop')
  pino(transport).info('lost in the worker')
  const [wrecord, werr] = await held(fromWorker)
  assert.deepEqual([wrecord.msg, werr.code], ['lost in the worker', 'ENOENT'])
  const closed = once(transport, 'close')
  transport.end()
  await held(closed)

  const log = winston.createLogger({ transports: [new JournaldTransport({ socket: nowhere })] })
  const warned = once(log, 'warn')
  log.info('lost')
  const [werror] = await warned
  assert.equal(werror.code, 'ENOENT')
  assert.match(werror.message, /not written to the journal/)
})

// ---- compat: failing sends are ignored, as sd-notify ignores them ----

for (const [what, socket] of [
  ['a path where nothing listens', '/nonexistent/sd-notify-rs/notify'],
  ['a path that refuses', 'refusing'],
]) {
  test(`compat with NOTIFY_SOCKET at ${what}: no function throws and the watchdog timer never ends the process`, async (t) => {
    let address = socket
    if (socket === 'refusing') {
      // A datagram socket file whose process has gone: ECONNREFUSED.
      address = path.join(require('node:os').tmpdir(), `sd-notify-rs-refusing-${process.pid}`)
      const py = cp.spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])', address])
      assert.equal(py.status, 0, String(py.stderr))
      t.after(() => require('node:fs').rmSync(address, { force: true }))
    }
    const r = await runChild(
      `
      const c = require('sd-notify-rs/compat')
      c.ready(); c.stopping(1); c.watchdog(); c.sendStatus('s'); c.sendState('STATUS=x\\n')
      c.startWatchdogMode(100)
      c.log.info('no journal either'); c.journalPrint(6, 'x')
      let ticks = 0
      const alive = setInterval(() => { if (++ticks === 8) { clearInterval(alive); console.log('alive') } }, 100)
    `,
      { NOTIFY_SOCKET: address, SD_NOTIFY_RS_JOURNAL_SOCKET: address },
    )
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'alive')
  })
}

test('compat startWatchdogMode(): a non-positive, non-finite or too long interval means the default (3000 ms), not a ping every millisecond', async () => {
  for (const interval of [0, -5, Infinity, NaN, 2 ** 31, 1e12]) {
    const r = await runChild(`
      const c = require('sd-notify-rs/compat')
      c.startWatchdogMode(${interval})
      setTimeout(() => {}, 300)
    `)
    assert.equal(r.status, 0, r.stderr)
    const pings = await pingsReceived()
    assert.equal(pings, 0, `startWatchdogMode(${interval}): ${pings} pings in 300 ms`)
  }
})
