'use strict'
// onReload() where things go wrong (issue 23 items 1 and 5, issue 26 item 7): a notify socket that
// fails, handlers that throw what is not an Error, the status a reload leaves, a squatter on the
// reload channel (a second uid, made with setpriv), and the channel's request parsing. Each service
// is a child process that must survive: its exit code and liveness are checked.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const net = require('node:net')
const path = require('node:path')
const { once } = require('node:events')
const { useListener } = require('./helpers')
const { abstractSocketsWork, channelPath, channelRefusal, parseRequest, parseReply, describe, MAX_REQUEST } = require('../lib/reload')

const CHILD = path.join(__dirname, 'fixtures', 'reload-modes.js')
const SQUATTER = path.join(__dirname, 'fixtures', 'squatter.js')
const BIN = path.join(__dirname, '..', 'bin', 'sd-notify-rs.js')
const channel = { skip: !abstractSocketsWork() && `Node.js ${process.version} has no reload channel` }
const isRoot = process.getuid?.() === 0
const setpriv = cp.spawnSync('setpriv', ['--version']).status === 0
const secondUid = { skip: (!abstractSocketsWork() && 'no reload channel') || (!isRoot && 'needs root to make a second uid') || (!setpriv && 'needs setpriv') }

/** A child service; its stdout lines are collected, and it is killed when the test ends. */
function startChild(t, notifySocket, mode, extra = []) {
  const child = cp.spawn(process.execPath, [CHILD, mode, ...extra], { env: { ...process.env, NOTIFY_SOCKET: notifySocket }, stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  // A signal the child survives goes through process.kill(): Deno's ChildProcess.kill() marks the
  // child as killed by that signal (signalCode) at once, and ignores every later kill().
  child.signal = (name) => process.kill(child.pid, name)
  child.lines = []
  child.stderrText = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (child.stderrText += d))
  child.stdout.setEncoding('utf8').on('data', (d) => child.lines.push(...d.split('\n').filter(Boolean)))
  child.until = async (line) => {
    for (let i = 0; !child.lines.includes(line); i++) {
      if (i === 500) throw new Error(`no "${line}" from the child: ${child.stderrText}`)
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`child exited (${child.exitCode ?? child.signalCode}) before "${line}": ${child.stderrText}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.lines.splice(child.lines.indexOf(line), 1)
  }
  return child
}

/** Waits for `predicate()`; a bound (not a timing assertion) so that a missing event fails the test instead of hanging it. */
async function eventually(predicate, what, child) {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.ok(predicate(), `never happened: ${what}; the child's stderr: ${child.stderrText}`)
}

const alive = (child) => child.exitCode === null && child.signalCode === null
const fieldsOf = async (listener) => (await listener.receive(5000)).fields
const runBin = (args) =>
  new Promise((resolve) => {
    const c = cp.spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    c.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    c.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    c.on('exit', (status) => resolve({ status, stdout, stderr }))
  })

test('a notify socket that is not there: SIGHUP still runs the reload, the service stays up and warns with a code', async (t) => {
  const child = startChild(t, '/nonexistent/notify.sock', 'ok')
  await child.until('ready')
  child.signal('SIGHUP')
  await child.until('handled')
  await eventually(() => child.stderrText.includes('SD_NOTIFY_RS_RELOAD_NOTIFY_FAILED'), 'the warning SD_NOTIFY_RS_RELOAD_NOTIFY_FAILED', child)
  assert.match(child.stderrText, /the reload ran, but the service manager did not get RELOADING=1 \(ENOENT/)
  child.signal('SIGHUP')
  await child.until('handled')
  assert.ok(alive(child), `the service died: ${child.stderrText}`)
})

test('a notify socket that is not there: sd-notify-rs reload runs the reload, exits 0 and passes the warning on', channel, async (t) => {
  const child = startChild(t, '/nonexistent/notify.sock', 'ok')
  await child.until('ready')
  const r = await runBin(['reload', String(child.pid)])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /warning: pid \d+: the reload ran, but the service manager did not get RELOADING=1 \(ENOENT.*READY=1 \(ENOENT/)
  await child.until('handled')
  assert.ok(alive(child), `the service died: ${child.stderrText}`)
})

for (const [mode, status] of [
  ['throw-null-proto', 'reload failed: [object Object]'],
  ['throw-undefined', 'reload failed: undefined'],
  ['throw-symbol', 'reload failed: Symbol(odd)'],
  ['throw-proxy', 'reload failed: a value that cannot be shown'],
]) {
  test(`a handler that throws what is not an Error (${mode}): READY=1 with the failure follows RELOADING=1; the service stays up`, async (t) => {
    const listener = useListener(t)
    const child = startChild(t, listener.address, mode)
    await child.until('ready')
    child.signal('SIGHUP')
    assert.equal((await fieldsOf(listener)).RELOADING, '1')
    assert.deepEqual(await fieldsOf(listener), { READY: '1', STATUS: status })
    // A second reload works as well: nothing was left half-done.
    child.signal('SIGHUP')
    assert.equal((await fieldsOf(listener)).RELOADING, '1')
    assert.equal((await fieldsOf(listener)).READY, '1')
    assert.ok(alive(child), `the service died: ${child.stderrText}`)
    assert.doesNotMatch(child.stderrText, /TypeError|Unhandled/)
  })
}

test('after a reload the status from before it is back (the handler set none)', async (t) => {
  const listener = useListener(t)
  const child = startChild(t, listener.address, 'status-before')
  assert.deepEqual(await fieldsOf(listener), { STATUS: 'serving 120 req/s' })
  await child.until('ready')
  child.signal('SIGHUP')
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
  assert.deepEqual(await fieldsOf(listener), { READY: '1', STATUS: 'serving 120 req/s' })
})

test("after a reload the handler's own status stays: READY=1 carries no STATUS= over it", async (t) => {
  const listener = useListener(t)
  const child = startChild(t, listener.address, 'status-in-handler')
  await child.until('ready')
  child.signal('SIGHUP')
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
  assert.deepEqual(await fieldsOf(listener), { STATUS: 'config v2' })
  assert.deepEqual(await fieldsOf(listener), { READY: '1' })
})

test('a squatter of another uid on the reload channel: the service warns, sd-notify-rs reload refuses it naming its pid and uid, exit 1', secondUid, async (t) => {
  const listener = useListener(t)
  const child = startChild(t, listener.address, 'ok', ['wait-go'])
  const squatter = cp.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SQUATTER, String(child.pid)], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => squatter.kill('SIGKILL'))
  await once(squatter.stdout, 'data')
  child.stdin.write('go\n')
  await child.until('ready')
  await eventually(() => child.stderrText.includes('SD_NOTIFY_RS_RELOAD_CHANNEL'), 'the warning SD_NOTIFY_RS_RELOAD_CHANNEL', child)
  assert.match(child.stderrText, /reload channel .* could not listen: EADDRINUSE.*ExecReload=\/bin\/kill -HUP \$MAINPID/s)
  const r = await runBin(['reload', String(child.pid)])
  assert.equal(r.status, 1, `sd-notify-rs reload trusted the squatter: ${r.stderr}`)
  assert.match(r.stderr, new RegExp(`held by another process, pid ${squatter.pid} \\(uid 65534\\): not trusting it`))
  // SIGHUP, the fallback the warning names, reloads the service.
  child.signal('SIGHUP')
  assert.equal((await fieldsOf(listener)).RELOADING, '1')
  await child.until('handled')
  assert.ok(alive(child))
})

test('the reload channel refuses an unknown request and a request too long, and buffers neither; the service stays up', channel, async (t) => {
  const listener = useListener(t)
  const child = startChild(t, listener.address, 'ok')
  await child.until('ready')
  const ask = (payload) =>
    new Promise((resolve, reject) => {
      const socket = net.connect(channelPath(child.pid))
      let reply = ''
      socket.setEncoding('utf8').on('data', (d) => (reply += d))
      socket.on('connect', () => socket.write(payload))
      socket.on('error', (err) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve(reply) : reject(err)))
      socket.on('close', () => resolve(reply))
    })
  assert.deepEqual(JSON.parse(await ask('restart\n')), { ok: false, error: 'unknown request "restart"' })
  const long = JSON.parse(await ask('x'.repeat(1 << 20)))
  assert.equal(long.ok, false)
  assert.match(long.error, /at most 64 bytes/)
  assert.ok(alive(child))
  assert.equal(child.lines.includes('handled'), false, 'no reload ran')
})

test("channelRefusal(): the channel is trusted only from the target's pid with the target's uid now (a reused pid is refused)", () => {
  assert.equal(channelRefusal(100, 100, 1000, 1000), undefined, "the target's own channel")
  assert.equal(channelRefusal(100, 200, 1000, 1000).code, 'EPERM', 'another pid')
  const reused = channelRefusal(100, 100, 65534, 0)
  assert.equal(reused.code, 'EPERM', 'listened as pid 100 under another uid: pid 100 is now someone else')
  assert.match(reused.message, /listened as pid 100 with uid 65534, while pid 100 now runs as uid 0 \(the pid was reused\)/)
  assert.equal(channelRefusal(100, 100, 1000, undefined).code, 'ESRCH', 'the target is gone')
})

test('parseRequest(): a line "reload" only, incomplete until a line ends, refused past MAX_REQUEST bytes', () => {
  assert.deepEqual(parseRequest(''), { state: 'incomplete' })
  assert.deepEqual(parseRequest('relo'), { state: 'incomplete' })
  assert.deepEqual(parseRequest('reload\n'), { state: 'reload' })
  assert.deepEqual(parseRequest('reload\r\n'), { state: 'reload' })
  assert.equal(parseRequest(' reload\n').state, 'refused')
  assert.equal(parseRequest('reload now\n').state, 'refused')
  assert.equal(parseRequest('x'.repeat(MAX_REQUEST)).state, 'incomplete')
  assert.equal(parseRequest('x'.repeat(MAX_REQUEST + 1)).state, 'refused')
  assert.ok(parseRequest(`${'y'.repeat(1e6)}\n`).error.length < 200, 'the refusal does not echo a megabyte')
  assert.equal(parseRequest(undefined).state, 'refused')
})

test('parseReply(): only { ok: boolean, ... } is an answer; strings cut, codes checked, never a throw', () => {
  assert.deepEqual(parseReply('{"ok":true}'), { ok: true })
  assert.deepEqual(parseReply('{"ok":true,"warning":"w"}'), { ok: true, warning: 'w' })
  assert.deepEqual(parseReply('{"ok":false,"error":"bad","code":"ENOENT"}'), { ok: false, error: 'bad', code: 'ENOENT' })
  assert.deepEqual(parseReply('{"ok":false,"code":"no such code"}'), { ok: false, error: 'the reload failed (no reason given)' })
  assert.equal(parseReply(JSON.stringify({ ok: false, error: 'e'.repeat(5000) })).error.length, 1000)
  for (const bad of ['', 'null', '[]', '{"ok":"yes"}', '{', '"ok"', '{"__proto__":{"ok":true}}', 'x'.repeat(70_000)]) assert.ok(parseReply(bad).invalid, bad.slice(0, 30))
})

test('describe(): any thrown value as text, never a throw', () => {
  assert.equal(describe(new Error('e')), 'e')
  assert.equal(describe(Object.create(null)), '[object Object]')
  assert.equal(describe(undefined), 'undefined')
  assert.equal(describe(Symbol('s')), 'Symbol(s)')
  const hostile = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap') }, get: () => { throw new Error('trap') } }) // prettier-ignore
  assert.equal(typeof describe(hostile), 'string')
})
