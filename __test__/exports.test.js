'use strict'
// One declaration of the public surface (lib/exports.js): every other place follows it. Adding an
// export there and nowhere else makes exactly these tests say what is missing.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { NAMES, NATIVE } = require('../lib/exports')

const ROOT = path.join(__dirname, '..')
const keysOf = (env) =>
  JSON.parse(cp.execFileSync(process.execPath, ['-e', "console.log(JSON.stringify(Object.keys(require('./index.js'))))"], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }))

test('require() exports exactly the declared names, on Linux and through the no-op layer', () => {
  assert.deepEqual(keysOf({}).sort(), [...NAMES].sort())
  assert.deepEqual(keysOf({ SD_NOTIFY_RS_PLATFORM: 'darwin' }).sort(), [...NAMES].sort())
})

test('the native binding provides every declared native export', () => {
  const native = require('../lib/loader').loadNative()
  for (const name of Object.keys(NATIVE)) assert.equal(typeof native[name], 'function', `native ${name}`)
})

test('index.mjs is the one generated from the declared names', () => {
  const r = cp.spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'esm-entry.js'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
})

test('index.d.ts declares every export, and nothing the package does not export', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const declared = [...dts.matchAll(/^export declare (?:function|class|const) (\w+)/gm)].map((m) => m[1])
  assert.deepEqual([...new Set(declared)].sort(), [...NAMES].sort())
})

test('index.d.ts declares the error codes generated from their registries (scripts/error-codes.js)', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const { declarations, packageCodes } = require('../scripts/error-codes')
  assert.ok(dts.includes(declarations()), 'index.d.ts has not the error codes of lib/errors.js and crates/sd-notify-protocol/src/error.rs: run `npm run build`')
  // Both registries are in it: a code of each.
  assert.ok(packageCodes().includes('ERR_SD_NOTIFY_NO_BINARY'))
  assert.ok(packageCodes().includes('ERR_SD_NOTIFY_LISTENER_CLOSED'))
  for (const name of ['SdNotifyErrorCode', 'SdNotifyError']) assert.match(dts, new RegExp(`^export (type|interface) ${name}\\b`, 'm'))
})

test('require() loads no native binary: the first call of a native function does', () => {
  const script = `
    const mapped = () => require('node:fs').readFileSync('/proc/self/maps', 'utf8').includes('.node')
    const sd = require('./index.js')
    const atRequire = mapped()
    sd.ready()
    console.log(JSON.stringify({ atRequire, afterReady: mapped() }))`
  const out = cp.execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, NOTIFY_SOCKET: '' }, encoding: 'utf8' })
  assert.deepEqual(JSON.parse(out), { atRequire: false, afterReady: true })
})

test('a missing binary still fails require(); one that is there but does not load fails its first use', (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sd-notify-rs-lazy-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const broken = path.join(dir, 'broken.node')
  fs.writeFileSync(broken, 'not an ELF file')
  const run = (nativePath) =>
    cp.spawnSync(
      process.execPath,
      // The require() error's code is printed by the script: Deno shows an uncaught error without its properties.
      ['-e', "let sd; try { sd = require('./index.js') } catch (e) { console.error(e.code); process.exit(1) } console.log('required'); try { sd.ready() } catch (e) { console.log(e.code) }"],
      { cwd: ROOT, env: { ...process.env, NOTIFY_SOCKET: '', SD_NOTIFY_RS_NATIVE_PATH: nativePath }, encoding: 'utf8' },
    )
  const missing = run(path.join(dir, 'missing.node'))
  assert.equal(missing.status, 1, missing.stderr)
  assert.equal(missing.stderr.trim().split('\n').at(-1), 'ERR_SD_NOTIFY_NO_BINARY')
  assert.doesNotMatch(missing.stdout, /required/)
  const unloadable = run(broken)
  assert.equal(unloadable.status, 0, unloadable.stderr)
  assert.deepEqual(unloadable.stdout.trim().split('\n'), ['required', 'ERR_SD_NOTIFY_NO_BINARY'])
})
