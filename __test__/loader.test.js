'use strict'

// How the package picks its implementation: the right binary for this Linux (glibc or musl),
// the SD_NOTIFY_RS_NATIVE_PATH override, one clear error when no binary loads, and the no-op
// layer on macOS and Windows (forced here with SD_NOTIFY_RS_PLATFORM, which exists for tests).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { isMusl, platformTriple, targetPlatform, loadNative } = require('../lib/loader')
const { readInterpreter } = require('../lib/elf')

const ROOT = path.join(__dirname, '..')
const MAIN = require('../package.json')
const missing = () => {
  throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' })
}
const probe = (overrides) => ({
  readMaps: missing,
  readInterpreter: missing,
  reportHeader: () => undefined,
  readLdd: missing,
  listLib: missing,
  ...overrides,
})

test('glibc is recognised from the process report header alone', () => {
  assert.equal(isMusl(probe({ reportHeader: () => ({ glibcVersionRuntime: '2.36' }) })), false)
})

test('musl is recognised from a report header without a glibc version', () => {
  assert.equal(isMusl(probe({ reportHeader: () => ({ osName: 'Linux' }) })), true)
})

test('without a report, the text of /usr/bin/ldd decides', () => {
  assert.equal(isMusl(probe({ readLdd: () => '#!/bin/sh\nexec /lib/ld-musl-x86_64.so.1 --list "$@"\n' })), true)
  assert.equal(isMusl(probe({ readLdd: () => "# This file is part of the GNU C Library.\necho 'ldd (GLIBC 2.36)'" })), false)
})

test('a missing /usr/bin/ldd is not taken for glibc: musl is found by its loader /lib/ld-musl-*.so.1', () => {
  assert.equal(isMusl(probe({ listLib: () => ['libc.musl-aarch64.so.1', 'ld-musl-aarch64.so.1'] })), true)
  assert.equal(isMusl(probe({ readLdd: () => 'an ldd that names no libc', listLib: () => ['ld-musl-x86_64.so.1'] })), true)
})

test('a failing report falls through to the next source', () => {
  const throwing = () => {
    throw new Error('report unavailable')
  }
  assert.equal(isMusl(probe({ reportHeader: throwing, listLib: () => ['ld-musl-armhf.so.1'] })), true)
})

test('with no source saying musl, the answer is glibc', () => {
  assert.equal(isMusl(probe({ listLib: () => ['ld-linux-x86-64.so.2', 'x86_64-linux-gnu'] })), false)
  assert.equal(isMusl(probe({})), false)
})

test("the running executable's interpreter decides first, whatever the machine's ldd says", () => {
  const glibcHost = { readLdd: () => "echo 'ldd (GLIBC 2.36)'", listLib: () => ['ld-linux-x86-64.so.2'] }
  assert.equal(isMusl(probe({ ...glibcHost, readInterpreter: () => '/opt/node/ld-musl-x86_64.so.1' })), true)
  const muslHost = { readLdd: () => 'exec /lib/ld-musl-aarch64.so.1 --list', listLib: () => ['ld-musl-aarch64.so.1'] }
  for (const glibc of ['/lib/ld-linux-aarch64.so.1', '/lib64/ld64.so.2', '/lib/ld64.so.1', '/lib/ld-linux-armhf.so.3']) {
    assert.equal(isMusl(probe({ ...muslHost, readInterpreter: () => glibc })), false, glibc)
  }
  // A static executable (no interpreter) or an unknown one leaves it to the next source.
  assert.equal(isMusl(probe({ ...muslHost, readInterpreter: () => null })), true)
  assert.equal(isMusl(probe({ ...glibcHost, readInterpreter: () => '/opt/ld.so' })), false)
})

test("the libraries mapped into the process decide before anything else; where they name neither libc, the interpreter does", () => {
  const glibcEverywhere = { readInterpreter: () => '/lib64/ld-linux-x86-64.so.2', readLdd: () => "echo 'ldd (GLIBC 2.36)'", listLib: () => ['ld-linux-x86-64.so.2'] }
  const muslMaps = '7f00-7f01 r-xp 00000000 fe:00 12 /lib/ld-musl-x86_64.so.1\n7f02-7f03 r--p 00000000 fe:00 13 /usr/bin/node\n'
  assert.equal(isMusl(probe({ ...glibcEverywhere, readMaps: () => muslMaps })), true)
  const glibcMaps = '7f00-7f01 r-xp 00000000 fe:00 12 /usr/lib/x86_64-linux-gnu/libc.so.6\n'
  assert.equal(isMusl(probe({ readInterpreter: () => '/lib/ld-musl-x86_64.so.1', readMaps: () => glibcMaps })), false)
  // Before glibc 2.34 libc.so.6 is a link, and the maps show the file it names.
  const oldGlibcMaps = '7f00-7f01 r-xp 00000000 fe:00 12 /lib/x86_64-linux-gnu/libc-2.31.so\n'
  assert.equal(isMusl(probe({ readInterpreter: () => '/lib/ld-musl-x86_64.so.1', readMaps: () => oldGlibcMaps })), false)
  // Debian's musl maps its loader as .../x86_64-linux-musl/libc.so: the interpreter then decides.
  const debianMusl = '7f00-7f01 r-xp 00000000 fe:00 12 /usr/lib/x86_64-linux-musl/libc.so\n'
  assert.equal(isMusl(probe({ readInterpreter: () => '/lib/ld-musl-x86_64.so.1', readMaps: () => debianMusl })), true)
  assert.equal(isMusl(probe({ ...glibcEverywhere, readMaps: () => debianMusl.replace('musl', 'gnu') })), false)
})

test('the interpreter is read from the ELF header of a real executable', { skip: process.platform !== 'linux' }, () => {
  assert.match(readInterpreter(process.execPath), /^\/.+\/ld[-.\w]*\.so\.\d$/)
  assert.throws(() => readInterpreter(__filename), /is not an ELF file/)
})

test("this process's libc, read through the real probes, is the one its process report names", { skip: process.platform !== 'linux' }, () => {
  const musl = !process.report.getReport().header.glibcVersionRuntime
  assert.equal(isMusl(), musl)
  assert.equal(platformTriple(), `linux-${process.arch}-${musl ? 'musl' : 'gnu'}`.replace('arm-gnu', 'arm-gnueabihf'))
})

test('the triple names the libc for each architecture the way the platform packages do', () => {
  const glibc = probe({ reportHeader: () => ({ glibcVersionRuntime: '2.17' }) })
  const musl = probe({ reportHeader: () => ({}) })
  const cases = [
    ['x64', glibc, 'linux-x64-gnu'],
    ['x64', musl, 'linux-x64-musl'],
    ['arm64', glibc, 'linux-arm64-gnu'],
    ['arm64', musl, 'linux-arm64-musl'],
    ['arm', glibc, 'linux-arm-gnueabihf'],
    ['riscv64', glibc, 'linux-riscv64-gnu'],
    ['ppc64', glibc, 'linux-ppc64-gnu'],
    ['s390x', glibc, 'linux-s390x-gnu'],
  ]
  for (const [arch, libc, expected] of cases) assert.equal(platformTriple('linux', arch, {}, libc), expected)
  assert.equal(platformTriple('darwin', 'arm64', {}), 'darwin-arm64')
})

test('SD_NOTIFY_RS_PLATFORM forces the platform, or the whole triple', () => {
  assert.equal(targetPlatform({}), process.platform)
  assert.equal(targetPlatform({ SD_NOTIFY_RS_PLATFORM: 'darwin' }), 'darwin')
  assert.equal(targetPlatform({ SD_NOTIFY_RS_PLATFORM: 'linux-arm64-musl' }), 'linux')
  assert.equal(platformTriple('linux', 'x64', { SD_NOTIFY_RS_PLATFORM: 'win32' }), 'win32-x64')
  assert.equal(platformTriple('linux', 'x64', { SD_NOTIFY_RS_PLATFORM: 'linux-arm64-musl' }), 'linux-arm64-musl')
})

const LOCAL_BUILD = path.join(ROOT, `${MAIN.napi.binaryName}.${platformTriple()}.node`)
const haveBuild = process.platform === 'linux' && fs.existsSync(LOCAL_BUILD)

test('SD_NOTIFY_RS_NATIVE_PATH loads the binary it names', { skip: !haveBuild && 'no local build' }, () => {
  const loaded = []
  const binding = loadNative({ SD_NOTIFY_RS_NATIVE_PATH: LOCAL_BUILD }, (id) => (loaded.push(id), require(id)))
  assert.deepEqual(loaded, [LOCAL_BUILD])
  assert.equal(typeof binding.ready, 'function')
})

test('a SD_NOTIFY_RS_NATIVE_PATH that does not load is an error, never silently replaced by another binary', () => {
  const file = path.join(os.tmpdir(), `sd-notify-rs-missing-${process.pid}.node`)
  assert.throws(
    () => loadNative({ SD_NOTIFY_RS_NATIVE_PATH: file }),
    (err) => {
      assert.equal(err.code, 'ERR_SD_NOTIFY_NO_BINARY')
      assert.match(err.message, new RegExp(`SD_NOTIFY_RS_NATIVE_PATH=${file}: not found`))
      assert.match(err.message, /Point SD_NOTIFY_RS_NATIVE_PATH at a \.node file built for linux-/)
      assert.ok(err.cause instanceof AggregateError)
      assert.deepEqual(err.cause.errors.map((e) => e.code), ['MODULE_NOT_FOUND'])
      return true
    },
  )
})

test('a SD_NOTIFY_RS_NATIVE_PATH that is no .node file is never run as JavaScript', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-js-'))
  const file = path.join(dir, 'binding.js')
  fs.writeFileSync(file, 'globalThis.sdNotifyRsRanAsJavaScript = true\nmodule.exports = {}\n')
  try {
    assert.throws(
      () => loadNative({ SD_NOTIFY_RS_NATIVE_PATH: file }),
      (err) => err.code === 'ERR_SD_NOTIFY_NO_BINARY' && /is not a \.node file/.test(err.message),
    )
    assert.equal(globalThis.sdNotifyRsRanAsJavaScript, undefined, 'the file was run')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a file that is there but is no loadable binary is reported as found but failed to load', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-bad-')), 'bad.node')
  fs.writeFileSync(file, 'not an ELF file')
  try {
    assert.throws(
      () => loadNative({ SD_NOTIFY_RS_NATIVE_PATH: file }),
      (err) => {
        assert.equal(err.code, 'ERR_SD_NOTIFY_NO_BINARY')
        // glibc and musl word the dlopen failure differently.
        assert.match(err.message, /found but failed to load: .*(invalid ELF header|file too short|Exec format error)/)
        assert.equal(err.cause.errors.length, 1)
        // Deno's failed dlopen carries no code; Node's and Bun's say ERR_DLOPEN_FAILED.
        if (!process.versions.deno) assert.equal(err.cause.errors[0].code, 'ERR_DLOPEN_FAILED')
        return true
      },
    )
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  }
})

test('no binary for this Linux: ERR_SD_NOTIFY_NO_BINARY names the platform, the package, the fix, and keeps every load error as cause', () => {
  const triple = 'linux-riscv64-gnu' // a published target with neither a local build nor an installed package here
  assert.throws(
    () => loadNative({ SD_NOTIFY_RS_PLATFORM: triple }),
    (err) => {
      assert.equal(err.code, 'ERR_SD_NOTIFY_NO_BINARY')
      assert.equal(err.platform, triple)
      assert.equal(err.package, `sd-notify-rs-${triple}`)
      assert.match(err.message, /no native binary could be loaded for linux-riscv64-gnu \(Node v/)
      assert.match(err.message, /the local build .*sd-notify-rs\.linux-riscv64-gnu\.node: not found/)
      assert.match(err.message, /the package sd-notify-rs-linux-riscv64-gnu: not found/)
      assert.ok(err.message.includes(`npm install sd-notify-rs-${triple}@${MAIN.version}`))
      assert.match(err.message, /--omit=optional/)
      assert.ok(err.message.includes('docs/platforms.md#when-no-binary-loads'), err.message)
      assert.ok(err.cause instanceof AggregateError)
      assert.deepEqual(err.cause.errors.map((e) => e.code), ['MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'])
      return true
    },
  )
})

test('a Linux with no published binary is told to build from source', () => {
  assert.throws(
    () => loadNative({ SD_NOTIFY_RS_PLATFORM: 'linux-ia32-gnu' }),
    (err) => {
      assert.equal(err.code, 'ERR_SD_NOTIFY_NO_BINARY')
      assert.match(err.message, /No prebuilt binary for linux-ia32-gnu was installed: .*build from source.*docs\/platforms\.md#when-no-binary-loads/)
      assert.equal(err.cause.errors.length, 2)
      return true
    },
  )
})

/**
 * Runs `script` in a fresh node with `env` added, in this checkout, and returns its JSON output.
 * `spec` reaches the script as SD_TEST_SPEC (not argv: `deno -e` puts a path in argv[1]).
 */
function runJson(script, env, spec) {
  if (spec !== undefined) env = { ...env, SD_TEST_SPEC: spec }
  const out = cp.execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' })
  return JSON.parse(out)
}

// What each export does where there is no service manager to talk to, called with `args`
// (the README's "Outside Linux" table has the same). A new export needs its line here and in the docs.
const NOOP = {
  ready: { args: ['status'], returns: false },
  reloading: { args: [], returns: false },
  stopping: { args: [], returns: false },
  status: { args: ['text'], returns: false },
  watchdog: { args: [], returns: false },
  watchdogTrigger: { args: [], returns: false },
  setWatchdogTimeout: { args: [1000], returns: false },
  extendTimeout: { args: [1000], returns: false },
  mainPid: { args: [1], returns: false },
  errno: { args: [2], returns: false },
  busError: { args: ['org.example.Error'], returns: false },
  notify: { args: [{ READY: 1 }], returns: false },
  barrier: { args: [], returns: 'Promise<false>' },
  available: { args: [], returns: false },
  watchdogEnabled: { args: [], returns: null },
  startWatchdog: { args: [], returns: null },
  Watchdog: { args: [], returns: 'throws ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM' },
  booted: { args: [], returns: false },
  listenFds: { args: [], returns: [] },
  fdStore: { args: [3, { name: 'http' }], returns: false },
  fdStoreRemove: { args: ['http'], returns: false },
  listen: { args: [], returns: 'rejects ERR_SD_NOTIFY_INVALID_VALUE' },
  listenInfo: { args: [{}], returns: null },
  NotifyListener: { args: [], returns: 'throws ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM' },
  JournalListener: { args: [], returns: 'throws ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM' },
  // Objects and classes whose methods are the no-ops: `call` names the method and its arguments.
  journal: { call: ['info', 'message', { FIELD: 1 }], returns: false },
  onReload: { args: [], returns: 'throws ERR_SD_NOTIFY_INVALID_VALUE' },
  drainOnStop: { args: [], returns: 'throws ERR_SD_NOTIFY_INVALID_VALUE' },
  clusterPrimary: { args: [{}], returns: 'throws ERR_SD_NOTIFY_INVALID_NUMBER' },
  Journal: { args: [{ identifier: 'app' }], call: ['send', { MESSAGE: 'x' }], returns: false },
}

// Calls every export of index.js as NOOP says and prints what each returned.
const DESCRIBE_EXPORTS = `
const sd = require('./index.js')
const spec = JSON.parse(process.env.SD_TEST_SPEC)
const out = {}
const pending = []
for (const [name, value] of Object.entries(sd)) {
  if (!spec[name]) { out[name] = 'undocumented: add it to NOOP in __test__/loader.test.js and to the README no-op table'; continue }
  const { args = [], call } = spec[name]
  try {
    const made = typeof value !== 'function' ? value : /^[A-Z]/.test(name) ? new value(...args) : value(...args)
    const result = call ? made[call[0]](...call.slice(1)) : made
    if (result instanceof Promise) pending.push(result.then((v) => { out[name] = 'Promise<' + v + '>' }, (e) => { out[name] = 'rejects ' + e.code }))
    else out[name] = result
  } catch (e) {
    out[name] = 'throws ' + e.code
  }
}
Promise.all(pending).then(() => console.log(JSON.stringify(out)))
`

for (const platform of ['darwin', 'win32']) {
  test(`on ${platform} (forced) the no-op layer loads and every function returns its documented value`, () => {
    const env = { SD_NOTIFY_RS_PLATFORM: platform, NOTIFY_SOCKET: '@would-be-used-on-linux' }
    const expected = Object.fromEntries(Object.entries(NOOP).map(([name, { returns }]) => [name, returns]))
    assert.deepEqual(runJson(DESCRIBE_EXPORTS, env, JSON.stringify(NOOP)), expected)
  })
}

test('on macOS no binary is looked for: a broken SD_NOTIFY_RS_NATIVE_PATH does not matter', () => {
  const out = runJson("console.log(JSON.stringify(require('./index.js').ready()))", {
    SD_NOTIFY_RS_PLATFORM: 'darwin',
    SD_NOTIFY_RS_NATIVE_PATH: '/nonexistent/sd-notify-rs.node',
  })
  assert.equal(out, false)
})

test('the no-op layer has every name the Linux entry exports', { skip: !haveBuild && 'no local build' }, () => {
  const linux = runJson("console.log(JSON.stringify(Object.keys(require('./index.js')).sort()))", {})
  const noop = runJson("console.log(JSON.stringify(Object.keys(require('./index.js')).sort()))", { SD_NOTIFY_RS_PLATFORM: 'darwin' })
  assert.deepEqual(noop, linux)
  const exported = linux.filter((name) => require('../index.js')[name] !== undefined)
  assert.deepEqual(exported, linux, 'index.js exports a name the binding does not have')
})
