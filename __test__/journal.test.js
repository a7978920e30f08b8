'use strict'
// journal.send()/print() against JournalListener, the stand-in for journald: exact bytes, both
// value encodings, the memfd path, the identifier and caller location, every refused input (with
// nothing sent), and the slow-journal policy.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { sd, runtimeGap, GAPS } = require('./helpers')

const { Journal, JournalListener } = sd

let listener
let journal

before(() => {
  listener = new JournalListener()
  journal = new Journal({ socket: listener.address, identifier: 'journal-test' })
})
after(() => listener.close())

/** The little-endian 64-bit length the binary-safe form puts before a value. */
const le64 = (n) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

/** Asserts `fn` throws `code` and that nothing reached the listener (a sentinel comes next). */
async function assertRefused(fn, code) {
  assert.throws(fn, (err) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    assert.ok(err.message.length > 10, 'the message says what is wrong')
    return true
  })
  assert.equal(journal.send({ MESSAGE: 'sentinel' }), true)
  const next = await listener.receive(2000)
  assert.equal(next.fields.MESSAGE, 'sentinel', 'the refused call must not have sent anything')
}

test('plain fields travel as KEY=value lines in order, with the identifier last', async () => {
  assert.equal(journal.send({ MESSAGE: 'hello', PRIORITY: 6, X_FLAG: true, X_BIG: 2n ** 70n }), true)
  const e = await listener.receive(2000)
  assert.equal(
    e.raw.toString(),
    `MESSAGE=hello\nPRIORITY=6\nX_FLAG=true\nX_BIG=${2n ** 70n}\nSYSLOG_IDENTIFIER=journal-test\n`,
  )
  assert.equal(e.pid, process.pid)
  assert.equal(e.memfd, false)
})

test('only own enumerable fields are sent, on the first entry and every later one', async () => {
  const inherited = Object.create({ INHERITED: 'no' })
  inherited.MESSAGE = 'own'
  Object.defineProperty(inherited, 'HIDDEN', { value: 'no', enumerable: false })
  const fresh = new Journal({ socket: listener.address, identifier: 'journal-test' })
  for (let i = 0; i < 3; i++) {
    assert.equal(fresh.send(inherited), true)
    assert.equal((await listener.receive(2000)).raw.toString(), 'MESSAGE=own\nSYSLOG_IDENTIFIER=journal-test\n')
  }
})

test('a multi-line value takes the binary-safe form with a little-endian length, after the plain fields', async () => {
  journal.send({ MESSAGE: 'line 1\nline 2' })
  const e = await listener.receive(2000)
  const want = Buffer.concat([Buffer.from('SYSLOG_IDENTIFIER=journal-test\n'), Buffer.from('MESSAGE\n'), le64(13), Buffer.from('line 1\nline 2\n')])
  assert.deepEqual(e.raw, want)
  assert.equal(e.fields.MESSAGE, 'line 1\nline 2')
})

test('a Buffer value arrives as exactly those bytes', async () => {
  journal.send({ MESSAGE: 'binary', BLOB: Buffer.from([0, 1, 2, 255]), U8: new Uint8Array([10, 0]) })
  const e = await listener.receive(2000)
  assert.deepEqual(e.fields.BLOB, Buffer.from([0, 1, 2, 255]))
  assert.deepEqual(e.fields.U8, Buffer.from([10, 0]))
})

test('an array repeats the field in order; null and undefined leave a field out', async () => {
  journal.send({ MESSAGE: 'tags', TAG: ['a', 'b', 3], MIXED: ['x', Buffer.from([0]), 'y\nz'], SKIPPED: undefined, ALSO_SKIPPED: null })
  const e = await listener.receive(2000)
  assert.deepEqual(e.fields.TAG, ['a', 'b', '3'])
  assert.deepEqual(e.fields.MIXED, ['x', Buffer.from([0]), 'y\nz'], 'text and binary values of one field keep their order')
  assert.equal('SKIPPED' in e.fields || 'ALSO_SKIPPED' in e.fields, false)
})

test('each level method sends its syslog priority', async () => {
  const levels = { emerg: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7 }
  for (const [level, priority] of Object.entries(levels)) {
    assert.equal(journal[level](`at ${level}`, { X_LEVEL: level }), true)
    const e = await listener.receive(2000)
    assert.deepEqual([e.fields.PRIORITY, e.fields.MESSAGE, e.fields.X_LEVEL], [String(priority), `at ${level}`, level])
  }
  journal.print(2, 'by number')
  assert.equal((await listener.receive(2000)).fields.PRIORITY, '2')
})

test('an Error message becomes MESSAGE, ERROR_STACK, ERROR_CODE and, for a system error, ERRNO', async () => {
  let systemError
  try {
    fs.readFileSync('/nonexistent/sd-notify-rs')
  } catch (err) {
    systemError = err
  }
  journal.err(systemError)
  const e = await listener.receive(2000)
  assert.equal(e.fields.PRIORITY, '3')
  assert.equal(e.fields.MESSAGE, systemError.message)
  assert.equal(e.fields.ERROR_CODE, 'ENOENT')
  assert.equal(e.fields.ERRNO, String(os.constants.errno.ENOENT))
  assert.match(e.fields.ERROR_STACK, /^Error: ENOENT[^]*journal\.test\.js/)
})

test('an Error field value becomes KEY, KEY_STACK and KEY_CODE', async () => {
  journal.send({ MESSAGE: 'failed', CAUSE: Object.assign(new TypeError('bad input'), { code: 'E_BAD' }) })
  const e = await listener.receive(2000)
  assert.equal(e.fields.CAUSE, 'bad input')
  assert.equal(e.fields.CAUSE_CODE, 'E_BAD')
  assert.match(e.fields.CAUSE_STACK, /^TypeError: bad input/)
})

test('location: true adds the caller as CODE_FILE/CODE_LINE/CODE_FUNC, never the package itself', async () => {
  const located = new Journal({ socket: listener.address, location: true })
  function namedCaller() {
    // Not a call in tail position: Bun's JavaScriptCore leaves such frames out of stack traces
    // (`return f()`, and even `const r = f(); return r`), and the caller's caller would be reported.
    const sent = located.info('where am I') // CODE_LINE: four lines above the next statement
    assert.equal(sent, true)
    return sent
  }
  const line = Number(new Error().stack.split('\n')[1].match(/:(\d+):\d+\)?$/)[1]) - 4
  namedCaller()
  const e = await listener.receive(2000)
  assert.equal(e.fields.CODE_FILE, __filename)
  assert.equal(e.fields.CODE_LINE, String(line))
  assert.equal(e.fields.CODE_FUNC, 'namedCaller')
})

test('the identifier defaults to the main script name, can be set, or left out', async () => {
  const byDefault = new Journal({ socket: listener.address })
  assert.equal(byDefault.identifier, path.basename(process.argv[1]).replace(/\.(c|m)?(j|t)s$/, ''))
  byDefault.send({ MESSAGE: 'x' })
  assert.equal((await listener.receive(2000)).fields.SYSLOG_IDENTIFIER, byDefault.identifier)
  new Journal({ socket: listener.address, identifier: false }).send({ MESSAGE: 'y' })
  assert.equal('SYSLOG_IDENTIFIER' in (await listener.receive(2000)).fields, false)
  journal.send({ MESSAGE: 'z', SYSLOG_IDENTIFIER: 'mine' })
  assert.equal((await listener.receive(2000)).fields.SYSLOG_IDENTIFIER, 'mine')
})

test('an entry of 1 MiB travels in a sealed memfd and arrives whole', async () => {
  const big = 'x'.repeat(1024 * 1024)
  assert.equal(journal.send({ MESSAGE: big, X_SIZE: big.length }), true)
  const e = await listener.receive(5000)
  assert.equal(e.memfd, true)
  assert.equal(e.fields.MESSAGE, big)
  assert.equal(e.fields.X_SIZE, String(big.length))
})

test('with no journal socket, send() returns false and throws nothing', () => {
  const nowhere = new Journal({ socket: path.join(os.tmpdir(), `sd-notify-rs-no-journal-${process.pid}`) })
  assert.equal(nowhere.send({ MESSAGE: 'lost?' }), false)
  assert.equal(nowhere.info('lost?'), false)
})

for (const [name, fields, code] of [
  ['a lowercase field name', { message: 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name starting with _ (trusted fields are journald\'s)', { _PID: 1 }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name starting with a digit', { '1ABC': 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name longer than 64 characters', { ['A'.repeat(65)]: 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['an empty name', { '': 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name with a dash', { 'A-B': 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name with a non-ASCII letter', { 'É': 'x' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  // As text lines these would read as A = "B=c" and a line without '=': found out natively.
  ['a name holding = (a string value)', { MESSAGE: 'x', 'A=B': 'c' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name holding = (a number value)', { 'A=B': 1 }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name holding a line break', { MESSAGE: 'x', 'A\nB': 'c' }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name holding = with repeated values', { 'A=B': ['c', 'd'] }, 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a plain object value', { MESSAGE: 'x', DATA: { a: 1 } }, 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a nested array', { TAG: [['a']] }, 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a function value', { MESSAGE: () => 'x' }, 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a symbol value', { MESSAGE: Symbol('x') }, 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['an empty entry', {}, 'ERR_SD_NOTIFY_EMPTY_MESSAGE'],
]) {
  test(`send() refuses ${name} with ${code} and sends nothing`, async () => {
    const quiet = new Journal({ socket: listener.address, identifier: false })
    await assertRefused(() => quiet.send(fields), code)
  })
}

for (const [name, call, code] of [
  ['fields that are not an object', () => journal.send('MESSAGE=x'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a priority above 7', () => journal.print(8, 'x'), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['a fractional priority', () => journal.print(1.5, 'x'), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['an unknown level name', () => journal.print('loud', 'x'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a message that is not a string or Error', () => journal.info(42), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['an invalid name among valid fields', () => journal.info('x', { ok: 1 }), 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a name holding = among valid fields', () => journal.info('x', { X_OK: 1, 'A=B': 'c' }), 'ERR_SD_NOTIFY_INVALID_KEY'],
]) {
  test(`print() refuses ${name} with ${code} and sends nothing`, async () => {
    await assertRefused(call, code)
  })
}

test('a name holding = or a line break is refused by that name, not read as other fields', () => {
  const quiet = new Journal({ socket: listener.address, identifier: false })
  for (const [fields, shown] of [
    [{ 'A=B': 'c' }, '"A=B"'],
    [{ X_OK: 1, 'PRIORITY=0\nX': 'c' }, '"PRIORITY=0\\nX"'],
  ]) {
    assert.throws(() => quiet.send(fields), (err) => err.code === 'ERR_SD_NOTIFY_INVALID_KEY' && err.message.includes(shown))
    assert.throws(() => quiet.info('x', fields), (err) => err.code === 'ERR_SD_NOTIFY_INVALID_KEY' && err.message.includes(shown))
  }
})

test('new Journal() refuses options it cannot use', () => {
  assert.throws(() => new Journal({ socket: '' }), { code: 'ERR_SD_NOTIFY_INVALID_ADDRESS' })
  assert.throws(() => new Journal({ identifier: 42 }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => new Journal({ location: 'yes' }), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => new Journal({ socket: 'relative/path' }).send({ MESSAGE: 'x' }), { code: 'ERR_SD_NOTIFY_INVALID_ADDRESS' })
})

test('streamConnected() compares JOURNAL_STREAM with the descriptor, not the variable alone', (t) => {
  const file = path.join(os.tmpdir(), `sd-notify-rs-stream-${process.pid}`)
  const fd = fs.openSync(file, 'w')
  const previous = process.env.JOURNAL_STREAM
  t.after(() => {
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
    if (previous === undefined) delete process.env.JOURNAL_STREAM
    else process.env.JOURNAL_STREAM = previous
  })
  const st = fs.fstatSync(fd, { bigint: true })
  process.env.JOURNAL_STREAM = `${st.dev}:${st.ino}`
  assert.equal(journal.streamConnected(fd), true)
  assert.equal(journal.streamConnected(0), false, 'another descriptor with the same variable')
  process.env.JOURNAL_STREAM = `${st.dev}:${st.ino + 1n}`
  assert.equal(journal.streamConnected(fd), false)
  delete process.env.JOURNAL_STREAM
  assert.equal(journal.streamConnected(fd), false)
  assert.throws(() => journal.streamConnected(-1), { code: 'ERR_SD_NOTIFY_INVALID_FD' })
})

/**
 * Logs `count` numbered entries in batches from setImmediate callbacks while `reader` does not
 * read, and counts how often a timer ran meanwhile: the event loop must keep turning.
 */
async function logWhileJournalStalls(target, count) {
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const outcomes = []
  await new Promise((resolve) => {
    let i = 0
    const batch = () => {
      for (const end = Math.min(i + 500, count); i < end; i++) outcomes.push(target.send({ MESSAGE: `entry ${i}`, X_SEQ: i }))
      if (i < count) setImmediate(batch)
      else resolve()
    }
    batch()
  })
  clearInterval(timer)
  lag.disable()
  return { outcomes, ticks, maxLagMs: lag.max / 1e6 }
}

/**
 * Reads entries until none arrives for a while; returns their X_SEQ numbers, and the notices of
 * dropped entries as `{ dropped: n, after: <the X_SEQ before it> }` in `notices`.
 */
async function drain(stalled, notices = []) {
  const seqs = []
  for (;;) {
    try {
      const { fields } = await stalled.receive(1500)
      if (fields.SD_NOTIFY_RS_DROPPED !== undefined) {
        notices.push({ dropped: Number(fields.SD_NOTIFY_RS_DROPPED), after: seqs.at(-1), message: fields.MESSAGE, priority: fields.PRIORITY })
      } else seqs.push(Number(fields.X_SEQ))
    } catch (err) {
      if (err.code === 'ETIMEDOUT') return seqs
      throw err
    }
  }
}

/**
 * `drain()` for as long as the child `running` has not ended, then until the receiver is idle:
 * a child that starts slowly (an emulated CPU) is not taken for one that sent nothing.
 */
async function drainWhileRunning(receiver, running) {
  let ended = false
  running.then(() => (ended = true))
  const seqs = []
  for (;;) {
    seqs.push(...(await drain(receiver)))
    if (ended) return seqs.concat(await drain(receiver))
  }
}

test('a journal that stops reading: 10,000 entries logged, the loop keeps turning, all arrive in order', async (t) => {
  const stalled = new JournalListener()
  t.after(() => stalled.close())
  const target = new Journal({ socket: stalled.address, identifier: false })
  const before = journal.stats()
  const { outcomes, ticks, maxLagMs } = await logWhileJournalStalls(target, 10_000)
  const during = journal.stats()
  t.diagnostic(`queued while stalled: ${during.queued}; timer ticks while logging: ${ticks}; max event-loop delay ${maxLagMs.toFixed(1)} ms`)
  assert.ok(outcomes.every(Boolean), 'every entry was sent or queued')
  assert.ok(during.queued > 0, 'the stalled journal made entries wait in the queue')
  assert.ok(ticks > 0, 'timers ran while the journal was stalled')
  const seqs = await drain(stalled)
  assert.equal(await target.flush(5000), true)
  assert.deepEqual(seqs, Array.from({ length: 10_000 }, (_, i) => i), 'every entry, once, in order')
  const afterwards = journal.stats()
  assert.equal(afterwards.sent - before.sent, 10_000)
  assert.equal(afterwards.dropped - before.dropped, 0)
})

test('past the queue limit entries are dropped and counted, the journal gets a notice at the gap; what arrives is exactly the rest, in order', async (t) => {
  const stalled = new JournalListener()
  const defaults = Journal.setQueueLimits({})
  t.after(() => {
    stalled.close()
    Journal.setQueueLimits(defaults)
  })
  assert.deepEqual(defaults, { entries: 1024 * 1024, bytes: 128 * 1024 * 1024, exitTimeoutMs: 10_000 })
  Journal.setQueueLimits({ entries: 100 })
  const target = new Journal({ socket: stalled.address, identifier: false })
  const before = journal.stats()
  const { outcomes } = await logWhileJournalStalls(target, 10_000)
  const refused = outcomes.filter((o) => o === false).length
  const dropped = journal.stats().dropped - before.dropped
  assert.ok(dropped > 0, 'the small queue overflowed')
  assert.equal(refused, dropped, 'send() returned false exactly for the dropped entries')
  const notices = []
  const seqs = await drain(stalled, notices)
  await target.flush(5000)
  t.diagnostic(`arrived: ${seqs.length}; dropped and counted: ${dropped}; notices: ${notices.length}`)
  assert.equal(seqs.length, 10_000 - dropped, 'arrived + dropped = logged')
  assert.deepEqual(new Set(seqs).size, seqs.length, 'each once')
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order')
  // Every gap in the sequence has a notice right there, saying how many entries are missing.
  assert.ok(notices.length > 0)
  assert.equal(notices.reduce((sum, n) => sum + n.dropped, 0), dropped, 'the notices add up to stats().dropped')
  for (const n of notices) {
    assert.match(n.message, /^\d+ journal entries dropped: journald did not keep up$/)
    assert.equal(n.priority, '4')
    const next = seqs[seqs.indexOf(n.after) + 1] ?? 10_000
    assert.equal(next - n.after - 1, n.dropped, `the notice after ${n.after} stands for the entries missing there`)
  }
  assert.equal(journal.stats().sent - before.sent, seqs.length + notices.length)
})

const canDropPrivileges = process.getuid?.() === 0 && ['setpriv', 'prlimit'].every((tool) => cp.spawnSync(tool, ['--version']).status === 0)

test('flush() when no thread can start: the promise rejects with EAGAIN, the process still ends, winston close() still emits closed', { skip: (!canDropPrivileges && 'needs root, setpriv and prlimit') || runtimeGap(GAPS.threadLimit).skip }, () => {
  // RLIMIT_NPROC, which root ignores: the child runs as nobody.
  const fixture = path.join(__dirname, 'fixtures', 'flush-without-threads.js')
  const r = cp.spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, fixture], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.signal, null, `the child did not end by itself (killed after 60 s): ${r.stdout}${r.stderr}`)
  assert.equal(r.stdout.trim(), 'rejected EAGAIN', r.stderr)
  assert.equal(r.status, 0)
  // winston's close() flushes: the rejection ends in 'closed', not in an unhandled rejection.
  const w = cp.spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, fixture, 'winston'], { encoding: 'utf8', timeout: 60_000 })
  assert.deepEqual([w.signal, w.stdout.trim(), w.status], [null, 'closed', 0], w.stderr)
})

test('with no room to queue (entries: 0), entries dropped while nothing waits still get their notice', async (t) => {
  const stalled = new JournalListener()
  const defaults = Journal.setQueueLimits({})
  t.after(() => {
    stalled.close()
    Journal.setQueueLimits(defaults)
  })
  Journal.setQueueLimits({ entries: 0 })
  const target = new Journal({ socket: stalled.address, identifier: false })
  const before = journal.stats()
  await logWhileJournalStalls(target, 2000)
  const dropped = journal.stats().dropped - before.dropped
  assert.ok(dropped > 0, 'the stalled journal made entries drop')
  const notices = []
  const seqs = await drain(stalled, notices)
  assert.equal(await target.flush(5000), true)
  t.diagnostic(`arrived: ${seqs.length}; dropped: ${dropped}; notices: ${notices.length}`)
  assert.equal(seqs.length, 2000 - dropped)
  assert.ok(notices.length > 0, 'the journal was told')
  assert.equal(notices.reduce((sum, n) => sum + n.dropped, 0), dropped, 'the notices add up to stats().dropped')
})

// ---- journald's field limit ----

const { MAX_FIELDS } = require('../lib/journal')

/** An entry of `n` fields: MESSAGE and X_F1..X_F(n-1). */
function fieldsOf(n) {
  const fields = { MESSAGE: `${n} fields` }
  for (let i = 1; i < n; i++) fields[`X_F${i}`] = 'v'
  return fields
}

test(`an entry of MAX_FIELDS (${MAX_FIELDS}) fields is sent; one more is refused with ERR_SD_NOTIFY_MESSAGE_TOO_LONG and nothing sent`, async () => {
  assert.ok(MAX_FIELDS >= 900 && MAX_FIELDS <= 1000, 'below journald 252\'s 1,025 with room for its own fields')
  assert.equal(journal.send(fieldsOf(MAX_FIELDS)), true)
  const e = await listener.receive(5000)
  assert.equal(e.fields.MESSAGE, `${MAX_FIELDS} fields`)
  assert.equal(Object.keys(e.fields).length, MAX_FIELDS + 1, 'with the identifier the journal adds')
  await assertRefused(() => journal.send(fieldsOf(MAX_FIELDS + 1)), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
  // A binary value takes the other path: counted the same.
  await assertRefused(() => journal.send({ ...fieldsOf(MAX_FIELDS), X_BIN: Buffer.from([0]) }), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
  // Repeated values count one by one.
  await assertRefused(() => journal.send({ MESSAGE: 'm', X_TAG: Array.from({ length: MAX_FIELDS }, (_, i) => `t${i}`) }), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
  // print(): PRIORITY and MESSAGE count as fields of the entry.
  const extra = fieldsOf(MAX_FIELDS)
  delete extra.MESSAGE
  await assertRefused(() => journal.info('m', extra), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
  delete extra[`X_F${MAX_FIELDS - 1}`]
  assert.equal(journal.info('m', extra), true)
  assert.equal(Object.keys((await listener.receive(5000)).fields).length, MAX_FIELDS + 1)
})

// ---- no journal: one rule, and one line on stderr ----

test('a stream socket where the journal should be: false and counted (no EPROTOTYPE thrown), like no socket at all', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-stream-'))
  const address = path.join(dir, 'socket')
  const server = require('node:net').createServer((c) => c.destroy())
  await new Promise((resolve) => server.listen(address, resolve))
  t.after(() => {
    server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const stream = new Journal({ socket: address })
  const before = journal.stats()
  assert.equal(stream.info('to a stream socket'), false)
  assert.equal(stream.send({ MESSAGE: 'again', X_BIN: Buffer.from([1, 0]) }), false)
  const after = journal.stats()
  assert.equal(after.noJournal - before.noJournal, 2)
  assert.match(after.lastError, /EPROTOTYPE/)
})

/** Runs `code` in a child node (the package as `sd`); resolves { code, signal, stdout, stderr }. */
function child(code, env = {}) {
  const { execFile } = require('node:child_process')
  const script = `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});\n${code}`
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { env: { ...process.env, JOURNAL_STREAM: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, signal: err?.signal ?? null, stdout, stderr })
    })
  })
}

/**
 * Runs `code` like child(), its stderr the journal stream the way systemd sets it up: a file
 * this process opened is the child's stderr, and JOURNAL_STREAM names its device and inode in
 * the environment the child starts with (the C environment, which is all an exit hook can read:
 * under Bun, a process.env write at run time never reaches it). Resolves like child(), stderr
 * read back from the file.
 */
function childOnJournalStream(code, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-stream-'))
  const file = path.join(dir, 'stderr')
  const fd = fs.openSync(file, 'w+')
  const st = fs.fstatSync(fd, { bigint: true })
  const script = `const sd = require(${JSON.stringify(path.join(__dirname, '..'))});\n${code}`
  const childEnv = { ...process.env, ...env, JOURNAL_STREAM: `${st.dev}:${st.ino}` }
  return new Promise((resolve) => {
    const c = cp.spawn(process.execPath, ['-e', script], { env: childEnv, stdio: ['ignore', 'pipe', fd], timeout: 60_000 })
    let stdout = ''
    c.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    c.on('close', (status, signal) => {
      fs.closeSync(fd)
      const stderr = fs.readFileSync(file, 'utf8')
      fs.rmSync(dir, { recursive: true, force: true })
      resolve({ code: status, signal, stdout, stderr })
    })
  })
}

/** Makes the child's stderr pass for the journal stream by a process.env write at run time. */
const STDERR_IS_JOURNAL = `{ const st = require('node:fs').fstatSync(2); process.env.JOURNAL_STREAM = st.dev + ':' + st.ino }\n`

test('no journal: the first entry says so once on stderr, every entry returns false and is counted, nothing thrown', async () => {
  const nowhere = path.join(os.tmpdir(), `sd-notify-rs-nowhere-${process.pid}`)
  const code = `
    const results = [sd.journal.info('a'), sd.journal.send({ MESSAGE: 'b' }), sd.journal.err(new Error('c'))]
    process.stdout.write(JSON.stringify({ results, stats: sd.journal.stats() }))`
  const r = await child(code, { SD_NOTIFY_RS_JOURNAL_SOCKET: nowhere })
  assert.equal(r.code, 0, r.stderr)
  const { results, stats } = JSON.parse(r.stdout)
  assert.deepEqual(results, [false, false, false])
  assert.equal(stats.noJournal, 3)
  const lines = r.stderr.split('\n').filter(Boolean)
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0], new RegExp(`^sd-notify-rs: no journal at ${nowhere}: ENOENT`))
  // When stderr is the journal stream, the line would only go where the entries could not.
  const quiet = await child(STDERR_IS_JOURNAL + code, { SD_NOTIFY_RS_JOURNAL_SOCKET: nowhere })
  assert.equal(quiet.code, 0, quiet.stderr)
  assert.equal(quiet.stderr, '')
})

// ---- the exit delivers what was logged ----

for (const [how, end] of [
  ['the event loop empties', ''],
  ['process.exit(0)', 'process.exit(0)'],
  ['an uncaught exception', "throw new Error('the end')"],
]) {
  test(`entries still queued when ${how} are sent before the process goes`, async (t) => {
    const receiver = new JournalListener()
    t.after(() => receiver.close())
    const count = 3000
    const running = child(`
      const j = new sd.Journal({ socket: ${JSON.stringify(receiver.address)}, identifier: false })
      for (let i = 0; i < ${count}; i++) j.send({ MESSAGE: 'e', X_SEQ: i })
      process.stdout.write(JSON.stringify(sd.journal.stats()))
      ${end}`)
    const seqs = await drainWhileRunning(receiver, running)
    const r = await running
    assert.equal(r.code, end.startsWith('throw') ? 1 : 0, r.stderr)
    assert.ok(JSON.parse(r.stdout).queued > 0, 'entries were still queued at the end (the receiver had not read them yet)')
    assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i), 'every entry, once, in order')
  })
}

test("a Worker that finds no journal asks its own process.env whether stderr is the journal stream (not the C environment)", async () => {
  // The Worker's env says stderr is the journal stream; the process's C environment has none.
  const r = await child(`
    const { Worker } = require('node:worker_threads')
    const st = require('node:fs').fstatSync(2)
    new Worker(\`
      const sd = require(${JSON.stringify(path.join(__dirname, '..'))})
      new sd.Journal({ socket: '/nonexistent/sd-notify-rs/journal' }).send({ MESSAGE: 'lost' })\`,
      { eval: true, env: { ...process.env, JOURNAL_STREAM: st.dev + ':' + st.ino } })`)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '', 'nothing said: the line would go to the journal that could not be reached')
})

test('entries a Worker logged arrive after the Worker ended and the process exits', async (t) => {
  const receiver = new JournalListener()
  t.after(() => receiver.close())
  const running = child(`
    const { Worker } = require('node:worker_threads')
    new Worker(\`
      const sd = require(${JSON.stringify(path.join(__dirname, '..'))})
      const j = new sd.Journal({ socket: ${JSON.stringify(receiver.address)}, identifier: false })
      for (let i = 0; i < 3000; i++) j.send({ MESSAGE: 'w', X_SEQ: i })\`, { eval: true })`)
  const seqs = await drainWhileRunning(receiver, running)
  const r = await running
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(seqs, Array.from({ length: 3000 }, (_, i) => i))
})

test('a journal that never reads holds the exit only until exitTimeoutMs; the lost entries are counted on one stderr line', async (t) => {
  const stalled = new JournalListener()
  t.after(() => stalled.close())
  // At exit no JavaScript runs: the hook sees the JOURNAL_STREAM the process started with.
  const r = await childOnJournalStream(`
    const limits = sd.Journal.setQueueLimits({ exitTimeoutMs: 300 })
    const j = new sd.Journal({ socket: ${JSON.stringify(stalled.address)}, identifier: false })
    for (let i = 0; i < 1000; i++) j.send({ MESSAGE: 'e', X_SEQ: i })
    process.stdout.write(JSON.stringify({ limits, stats: sd.journal.stats() }))`)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.signal, null)
  const { limits, stats } = JSON.parse(r.stdout)
  assert.equal(limits.exitTimeoutMs, 300)
  const match = /^sd-notify-rs: (\d+) journal entries were lost at exit: journald did not take them within 300 ms/.exec(r.stderr)
  assert.ok(match, r.stderr)
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1)
  const seqs = await drain(stalled)
  assert.equal(seqs.length + Number(match[1]), 1000, 'what the socket holds and what was lost add up to what was logged')
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i))
  assert.ok(stats.queued > 0)
})

test('setQueueLimits() checks each number and leaves out what it is not given', () => {
  const now = Journal.setQueueLimits({})
  for (const bad of [{ entries: -1 }, { bytes: 1.5 }, { exitTimeoutMs: Number.NaN }, { exitTimeoutMs: 2 ** 31 }, { entries: 2 ** 32 }]) {
    assert.throws(() => Journal.setQueueLimits(bad), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' }, JSON.stringify(bad))
  }
  assert.throws(() => Journal.setQueueLimits(null), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.deepEqual(Journal.setQueueLimits(Object.create({ entries: 1 })), now, 'inherited properties are not read')
  assert.deepEqual(Journal.setQueueLimits({ exitTimeoutMs: now.exitTimeoutMs }), now)
})
