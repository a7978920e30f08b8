'use strict'
// Every refused input: the right stable code, a clear message, and nothing sent.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { sd, useListener, assertRefused } = require('./helpers')

const refused = [
  ['STATUS holding a newline', () => sd.status('ok\nMAINPID=1'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['STATUS holding a carriage return', () => sd.status('ok\rMAINPID=1'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['STATUS holding a NUL byte', () => sd.status('ok\0'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['ready() status holding a newline', () => sd.ready('up\nWATCHDOG=trigger'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['stopping() status holding a carriage return', () => sd.stopping('bye\rX=1'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['reloading() status holding a NUL byte', () => sd.reloading('a\0b'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a private field value holding a newline', () => sd.notify({ READY: 1, X_NOTE: 'a\nb' }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a lowercase key', () => sd.notify({ ready: 1 }), 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a key starting with a digit', () => sd.notify({ '1READY': 1 }), 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a key holding "="', () => sd.notify({ 'READY=1\nSTATUS': 'x' }), 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['a key holding a dash', () => sd.notify({ 'X-APP': 'x' }), 'ERR_SD_NOTIFY_INVALID_KEY'],
  ['an empty notify()', () => sd.notify({}), 'ERR_SD_NOTIFY_EMPTY_MESSAGE'],
  ['a notify() whose only field is undefined', () => sd.notify({ STATUS: undefined }), 'ERR_SD_NOTIFY_EMPTY_MESSAGE'],
  ['READY=0', () => sd.notify({ READY: 0 }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['READY=false', () => sd.notify({ READY: false }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['WATCHDOG=yes', () => sd.notify({ WATCHDOG: 'yes' }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['NOTIFYACCESS=everyone', () => sd.notify({ NOTIFYACCESS: 'everyone' }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['an object as a value', () => sd.notify({ X_OBJ: {} }), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['a negative bigint', () => sd.notify({ MAINPID: -1n }), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['a bigint above 2^64-1', () => sd.notify({ X_BIG: 2n ** 64n }), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['MAINPID given as text that is not a number', () => sd.notify({ MAINPID: '12abc' }), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(-1)', () => sd.mainPid(-1), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(1.5)', () => sd.mainPid(1.5), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(NaN)', () => sd.mainPid(NaN), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(Infinity)', () => sd.mainPid(Infinity), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(0)', () => sd.mainPid(0), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['mainPid(2^31), beyond pid_t', () => sd.mainPid(2 ** 31), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['errno(-1)', () => sd.errno(-1), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['errno(2.5)', () => sd.errno(2.5), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['setWatchdogTimeout(NaN)', () => sd.setWatchdogTimeout(NaN), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['setWatchdogTimeout(-Infinity)', () => sd.setWatchdogTimeout(-Infinity), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['extendTimeout(-5)', () => sd.extendTimeout(-5), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['extendTimeout(0.5)', () => sd.extendTimeout(0.5), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['extendTimeout(2^53), beyond safe integers', () => sd.extendTimeout(2 ** 53), 'ERR_SD_NOTIFY_INVALID_NUMBER'],
  ['a bus error name with a space', () => sd.busError('not a name'), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['an empty bus error name', () => sd.busError(''), 'ERR_SD_NOTIFY_INVALID_VALUE'],
  ['an FDNAME holding ":"', () => sd.notify({ FDSTORE: 1, FDNAME: 'a:b' }), 'ERR_SD_NOTIFY_INVALID_FDNAME'],
  ['an FDNAME of 256 characters', () => sd.notify({ FDNAME: 'n'.repeat(256) }), 'ERR_SD_NOTIFY_INVALID_FDNAME'],
  ['a non-ASCII FDNAME', () => sd.notify({ FDNAME: 'naïve' }), 'ERR_SD_NOTIFY_INVALID_FDNAME'],
  ['an FDNAME holding a tab', () => sd.notify({ FDNAME: 'a\tb' }), 'ERR_SD_NOTIFY_INVALID_FDNAME'],
  ['an empty FDNAME', () => sd.notify({ FDNAME: '' }), 'ERR_SD_NOTIFY_INVALID_FDNAME'],
  ['a negative fd', () => sd.notify({ FDSTORE: 1 }, { fds: [-1] }), 'ERR_SD_NOTIFY_INVALID_FD'],
  ['a fractional fd', () => sd.notify({ FDSTORE: 1 }, { fds: [1.5] }), 'ERR_SD_NOTIFY_INVALID_FD'],
  ['an fd that is not open', () => sd.notify({ FDSTORE: 1 }, { fds: [987654] }), 'ERR_SD_NOTIFY_INVALID_FD'],
  ['BARRIER=1 mixed with other fields', () => sd.notify({ BARRIER: 1, READY: 1 }), 'ERR_SD_NOTIFY_INVALID_COMBINATION'],
]

for (const [what, call, code] of refused) {
  test(`refuses ${what} with ${code} and sends nothing`, async (t) => {
    const l = useListener(t)
    await assertRefused(l, call, code)
  })
}

test('an fd that is open but follows a closed one sends nothing either', async (t) => {
  const l = useListener(t)
  const fd = fs.openSync(__filename, 'r')
  t.after(() => fs.closeSync(fd))
  await assertRefused(l, () => sd.notify({ FDSTORE: 1 }, { fds: [fd, 987654] }), 'ERR_SD_NOTIFY_INVALID_FD')
})

test('barrier() with a bad timeout rejects with ERR_SD_NOTIFY_INVALID_NUMBER and sends nothing', async (t) => {
  const l = useListener(t)
  await assert.rejects(sd.barrier(-1), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.equal(sd.status('sentinel'), true)
  assert.equal((await l.receive(2000)).text, 'STATUS=sentinel')
})

function withNotifySocket(t, value) {
  const saved = process.env.NOTIFY_SOCKET
  process.env.NOTIFY_SOCKET = value
  t.after(() => {
    if (saved === undefined) delete process.env.NOTIFY_SOCKET
    else process.env.NOTIFY_SOCKET = saved
  })
}

const socketErrors = [
  ['a relative path', 'run/notify', 'ERR_SD_NOTIFY_INVALID_ADDRESS'],
  ['a tcp-like address', 'tcp:127.0.0.1:9', 'ERR_SD_NOTIFY_INVALID_ADDRESS'],
  ['a path longer than sun_path', '/' + 'p'.repeat(120), 'ENAMETOOLONG'],
  ['a path where nothing listens', path.join(os.tmpdir(), 'sd-notify-rs-missing', 'notify'), 'ENOENT'],
  ['an abstract name nobody bound', `@sd-notify-rs-nobody-${process.pid}`, 'ECONNREFUSED'],
]

for (const [what, address, code] of socketErrors) {
  test(`NOTIFY_SOCKET set to ${what} throws ${code}`, (t) => {
    withNotifySocket(t, address)
    assert.throws(() => sd.ready(), (err) => err.code === code && err.message.length > 10)
  })
}

test('a vsock NOTIFY_SOCKET is attempted over AF_VSOCK and reports the errno when it fails', (t) => {
  withNotifySocket(t, 'vsock:2:9999')
  let err
  try {
    sd.ready()
  } catch (e) {
    err = e
  }
  // No hypervisor here: the kernel refuses (no vsock transport) or nobody listens on CID 2.
  assert.ok(err, 'sending to a vsock address with no peer must fail')
  assert.match(err.code, /^E[A-Z]+$/, `an errno name, got ${err.code}`)
})

test('barrier() rejects with the socket error when NOTIFY_SOCKET points nowhere', async (t) => {
  withNotifySocket(t, `@sd-notify-rs-nobody-${process.pid}`)
  await assert.rejects(sd.barrier(100), { code: 'ECONNREFUSED' })
})

test('bad input throws even when not under a service manager, so mistakes show up in development', (t) => {
  const saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET
  t.after(() => {
    if (saved !== undefined) process.env.NOTIFY_SOCKET = saved
  })
  assert.throws(() => sd.status('a\nb'), { code: 'ERR_SD_NOTIFY_INVALID_VALUE' })
  assert.throws(() => sd.mainPid(-1), { code: 'ERR_SD_NOTIFY_INVALID_NUMBER' })
  assert.throws(() => sd.notify({}), { code: 'ERR_SD_NOTIFY_EMPTY_MESSAGE' })
})

test('a status that is not a string is refused with ERR_SD_NOTIFY_INVALID_VALUE and sends nothing', async (t) => {
  const l = useListener(t)
  await assertRefused(l, () => sd.status(42), 'ERR_SD_NOTIFY_INVALID_VALUE')
  await assertRefused(l, () => sd.ready({ toString: () => 'READY=1' }), 'ERR_SD_NOTIFY_INVALID_VALUE')
})

test('a multi-byte status just over the limit is refused, one just under is sent whole', async (t) => {
  const l = useListener(t)
  // 'é' is 2 bytes: 'STATUS=' (7) + 2044 * 2 = 4095 bytes fits; one more does not.
  assert.equal(sd.status('é'.repeat(2044)), true)
  assert.equal((await l.receive(2000)).raw.length, 4095)
  await assertRefused(l, () => sd.status('é'.repeat(2045)), 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG')
})
