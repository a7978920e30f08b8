'use strict'
// Installs the packed packages the way a newcomer does and proves they work: `npm pack` the main
// package and one platform package, install both tarballs into a fresh project under os.tmpdir()
// with no compiler, no Rust and no node-gyp on PATH, then require() and import() the package and
// check that a notification reaches a NotifyListener. __test__/package.test.js runs the pieces;
// the release workflow runs the whole on every platform, with the binary built for it:
//
//   node scripts/smoke-test-package.js path/to/sd-notify-rs.linux-arm64-gnu.node

const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { cleanEnv, npmCli, run } = require('./common')
const { expectedFiles } = require('./sync-platform-packages')

const ROOT = path.join(__dirname, '..')
const MAIN = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const ONE_MB = 1024 * 1024

// What must never run during an install: compilers, build tools, and the Python node-gyp needs.
const FORBIDDEN_TOOLS = ['cargo', 'rustc', 'rustup', 'cc', 'c++', 'gcc', 'g++', 'clang', 'ld', 'make', 'cmake', 'python', 'python3', 'node-gyp', 'zig']

/**
 * A directory to be the whole PATH: node, npm, sh and env, and in place of every forbidden tool
 * a script that records its call in `log` and exits 127, as a missing command would.
 */
function isolatedToolDir(dir) {
  const bin = path.join(dir, 'bin')
  const log = path.join(dir, 'forbidden-tool-calls.log')
  fs.mkdirSync(bin, { recursive: true })
  fs.writeFileSync(log, '')
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  fs.symlinkSync(npmCli(), path.join(bin, 'npm'))
  for (const tool of ['sh', 'env']) {
    const found = ['/bin', '/usr/bin'].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f))
    if (found) fs.symlinkSync(found, path.join(bin, tool))
  }
  for (const tool of FORBIDDEN_TOOLS) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexit 127\n`, { mode: 0o755 })
  }
  return { bin, log, PATH: bin }
}

/** `npm pack` of the package in `dir` into `dest`: `{ tarball, size, unpackedSize, files }`. */
function npmPack(dir, dest) {
  const out = run(process.execPath, [npmCli(), 'pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: dir,
    env: cleanEnv(),
  })
  const [info] = JSON.parse(out)
  return {
    name: info.name,
    tarball: path.join(dest, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files.map((f) => f.path).sort(),
  }
}

/**
 * Copies into `stage` what `npm pack` takes from this checkout (only what `files` lists), and the
 * checkout's `extra` files.
 */
function stagePackage(stage, extra = []) {
  const listed = JSON.parse(run(process.execPath, [npmCli(), 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, env: cleanEnv() }))
  for (const file of [...listed[0].files.map((f) => f.path), ...extra]) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
    fs.copyFileSync(path.join(ROOT, file), path.join(stage, file))
  }
}

/**
 * Packs the main package as the release publishes it, from a stagePackage() copy, with the
 * package.json publish.sh publishes: the platform packages as optionalDependencies.
 */
function packMain(dest) {
  const stage = fs.mkdtempSync(path.join(dest, 'stage-main-'))
  stagePackage(stage)
  fs.writeFileSync(path.join(stage, 'package.json'), expectedFiles(undefined, { publish: true })[path.join(ROOT, 'package.json')])
  return npmPack(stage, dest)
}

/**
 * Packs the main package's dependencies (pino-abstract-transport and what it needs) from this
 * checkout's node_modules: the offline install has no registry to take them from.
 */
function packDependencies(dest) {
  const packed = new Map()
  const visit = (deps = {}) => {
    for (const name of Object.keys(deps)) {
      if (packed.has(name)) continue
      const dir = path.join(ROOT, 'node_modules', name)
      packed.set(name, npmPack(dir, dest))
      visit(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies)
    }
  }
  visit(MAIN.dependencies)
  return [...packed.values()]
}

/** Packs npm/<platform> with `binary` copied in, from a temporary copy (the checkout is not touched). */
function packPlatform(platform, binary, dest) {
  const stage = fs.mkdtempSync(path.join(dest, `stage-${platform}-`))
  for (const file of ['package.json', 'README.md']) {
    fs.copyFileSync(path.join(ROOT, 'npm', platform, file), path.join(stage, file))
  }
  fs.copyFileSync(binary, path.join(stage, `${MAIN.napi.binaryName}.${platform}.node`))
  return npmPack(stage, dest)
}

/**
 * A fresh project in `dir` with both tarballs installed, PATH limited to `tools`. `--offline`
 * with an empty cache: nothing can come from a registry, so the main package's other optional
 * platform packages (not published yet, or for other machines) fail to resolve and npm skips
 * them as it skips any optional dependency it cannot install. `--omit=optional` is not used: it
 * is the very flag that leaves the binary out for real users. `--ignore-scripts` changes nothing
 * for these packages (they have no scripts, which the test asserts) but guards the machine.
 */
function installConsumer(dir, tarballs, tools) {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2))
  const npmrc = path.join(dir, '.npmrc-empty')
  fs.writeFileSync(npmrc, '')
  const args = [
    'install',
    '--offline',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--cache', path.join(dir, '.npm-cache'),
    '--userconfig', npmrc,
    ...tarballs,
  ]
  return run(path.join(tools.bin, 'node'), [npmCli(), ...args], {
    cwd: dir,
    env: cleanEnv({ PATH: tools.PATH, npm_config_node_gyp: path.join(tools.bin, 'node-gyp') }),
  })
}

const CJS_CONSUMER = `
const sd = require('sd-notify-rs')
const sent = sd.ready('cjs consumer')
const binary = Object.keys(require.cache).find((f) => f.endsWith('.node'))
console.log(JSON.stringify({ sent, binary }))
`
const ESM_CONSUMER = `
import { ready } from 'sd-notify-rs'
import sd from 'sd-notify-rs'
if (sd.ready !== ready) throw new Error('default and named exports differ')
console.log(JSON.stringify({ sent: ready('esm consumer') }))
`

/**
 * Runs `source` (a .cjs or .mjs file written into the project) with NOTIFY_SOCKET pointing at a
 * NotifyListener from the installed package, and returns what the listener received and what the
 * consumer printed.
 */
async function notifyFromConsumer(dir, file, source, tools) {
  fs.writeFileSync(path.join(dir, file), source)
  const { NotifyListener } = require(path.join(dir, 'node_modules', MAIN.name))
  const listener = new NotifyListener()
  try {
    const received = listener.receive(5000)
    const child = cp.spawn(path.join(tools.bin, 'node'), [file], {
      cwd: dir,
      env: cleanEnv({ PATH: tools.PATH, NOTIFY_SOCKET: listener.address }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    assert.equal(code, 0, `${file} failed:\n${stderr}`)
    const message = await received
    return { message, pid: child.pid, printed: JSON.parse(stdout) }
  } finally {
    listener.close()
  }
}

/** The whole smoke test for one platform; throws on the first failure. */
async function smokeTest(binary, platform = /\.(linux-[^.]+)\.node$/.exec(binary)?.[1], log = console.log) {
  assert.ok(platform, `cannot tell the platform from ${binary}; name it sd-notify-rs.<platform>.node`)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-smoke-'))
  try {
    const tools = isolatedToolDir(work)
    const main = packMain(work)
    const native = packPlatform(platform, binary, work)
    for (const p of [main, native]) {
      log(`${path.basename(p.tarball)}: ${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.files.length} files`)
      assert.ok(p.unpackedSize < ONE_MB, `${p.name} unpacks to ${p.unpackedSize} bytes, over the 1 MB budget`)
    }
    const project = path.join(work, 'consumer')
    installConsumer(project, [main.tarball, native.tarball, ...packDependencies(work).map((d) => d.tarball)], tools)
    for (const [file, source] of [['consumer.cjs', CJS_CONSUMER], ['consumer.mjs', ESM_CONSUMER]]) {
      const { message, pid, printed } = await notifyFromConsumer(project, file, source, tools)
      assert.equal(printed.sent, true)
      assert.equal(message.fields.READY, '1')
      assert.equal(message.pid, pid)
      if (printed.binary) assert.equal(printed.binary, path.join(project, 'node_modules', native.name, `${MAIN.napi.binaryName}.${platform}.node`))
      log(`${file}: READY=1 received from pid ${pid}`)
    }
    assert.equal(fs.readFileSync(tools.log, 'utf8'), '', 'a forbidden tool was called')
    log(`ok: ${MAIN.name} with ${native.name} installs and notifies on ${platform}, no compiler involved`)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const [binary, platform] = process.argv.slice(2)
  smokeTest(path.resolve(binary), platform).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = {
  FORBIDDEN_TOOLS,
  ONE_MB,
  cleanEnv,
  isolatedToolDir,
  packMain,
  stagePackage,
  packPlatform,
  packDependencies,
  installConsumer,
  notifyFromConsumer,
  smokeTest,
  CJS_CONSUMER,
  ESM_CONSUMER,
}
