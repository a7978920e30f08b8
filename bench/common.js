'use strict'
// Shared pieces of the benchmark: statistics, the native helper, the draining receiver, the
// `sd-notify` npm package in a scratch folder, and the machine's description.

const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const BENCH_DIR = __dirname
const REPO_ROOT = path.resolve(BENCH_DIR, '..')
const FLOOR_DIR = path.join(BENCH_DIR, 'floor')
const FLOOR_BIN = path.join(FLOOR_DIR, 'target', 'release', 'sdbench-floor')
const NAPI_FLOOR = path.join(FLOOR_DIR, 'target', 'release', 'libsdbench_napi_floor.so')
// Inside the checkout (so the e2e namespace sees it too) but gitignored, and outside the package.
const SCRATCH_DIR = path.join(BENCH_DIR, 'scratch')
const SD_NOTIFY_VERSION = '2.8.0'
const SYSTEMD_JOURNALD_VERSION = '1.5.2'

const { sleep, median, quantile } = require('../testbed/util')

/**
 * A timing loop of its own for `call`, a JavaScript expression on `api` (new Function: its own JIT
 * feedback, so call sites stay monomorphic). A call that throws counts as an error, and so does
 * one that returns `false` (not sent) when `falseIsError`. `loop(api, n)` returns
 * `{ nsPerCall, errors, firstError }`.
 */
function timedLoop(call, falseIsError = true) {
  const counted = falseIsError ? `if ((${call}) === false) errors++` : call
  return new Function(
    'api',
    'n',
    `let errors = 0, first = null
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      try { ${counted} } catch (e) { errors++; first ??= e }
    }
    return { nsPerCall: Number(process.hrtime.bigint() - t0) / n, errors, firstError: first && (first.code || first.message) }`,
  )
}

function log(...args) {
  process.stderr.write(`[bench] ${args.join(' ')}\n`)
}

/** Runs a command to completion; throws with its output when it fails. */
function runChecked(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts })
  if (r.error) throw r.error
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${(r.stdout || '').slice(-2000)}${(r.stderr || '').slice(-4000)}`)
  }
  return r.stdout
}

/** Builds bench/floor (its own Cargo project: a binary and a minimal N-API addon) in release mode. */
function buildFloor() {
  log('building bench/floor (cargo build --release)')
  runChecked('cargo', ['build', '--release', '--quiet', '--manifest-path', path.join(FLOOR_DIR, 'Cargo.toml'), '--target-dir', path.join(FLOOR_DIR, 'target')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return FLOOR_BIN
}

/**
 * A separate process that reads the socket continuously, so no sender ever finds the queue full.
 * mode 'spin': never sleeps (polls with MSG_DONTWAIT, one core busy): a send never pays for
 * waking the receiver. mode 'block': sleeps in recvmmsg like a real manager sleeps in epoll.
 * The drainer uses systemd's max_dgram_qlen (512, or `qlen`) in a private network namespace when it can.
 */
async function startDrainer({ mode = 'block', address = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sdbench-')), 'notify.sock'), qlen } = {}) {
  const args = ['drain', address]
  if (mode === 'spin') args.push('--spin')
  if (qlen) args.push(`--qlen=${qlen}`)
  const child = cp.spawn(FLOOR_BIN, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const nextLine = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the drainer did not answer within 5 s')), 5000)
      waiting.push((line) => {
        clearTimeout(timer)
        resolve(line)
      })
    })
  const banner = await nextLine()
  if (!banner.startsWith('ready')) throw new Error(`drainer: ${banner}`)
  return {
    address,
    pid: child.pid,
    banner,
    /** Datagrams read so far. */
    async count() {
      const answer = nextLine()
      child.stdin.write('count\n')
      return Number(await answer)
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin.end()
      await Promise.race([exited, sleep(2000)])
      if (child.exitCode === null) child.kill('SIGKILL')
      fs.rmSync(path.dirname(address), { recursive: true, force: true })
    },
  }
}

/**
 * Installs npm package `name@version`, a node-gyp addon over libsystemd, into bench/scratch/<name>,
 * outside this package; `built` is its addon's path inside the package and `probe` a call that
 * must succeed once it is loaded. Resolves { path, version } of the module, or { reason }.
 */
function installNative({ name, version, built, probe }) {
  const dir = path.join(SCRATCH_DIR, name)
  const modDir = path.join(dir, 'node_modules', name)
  const tryLoad = () => {
    const r = cp.spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(modDir)}); ${probe}`], { encoding: 'utf8' })
    return r.status === 0 ? null : (r.stderr || '').trim().split('\n').slice(0, 3).join(' ')
  }
  if (fs.existsSync(path.join(modDir, built)) && !tryLoad()) return { path: modDir, version }
  if (!fs.existsSync('/usr/include/systemd/sd-daemon.h')) {
    return { reason: 'libsystemd-dev is not installed (/usr/include/systemd/sd-daemon.h missing): `apt-get install libsystemd-dev`' }
  }
  const nodedir = fs.existsSync('/usr/include/node/node.h') ? '/usr' : null
  if (!nodedir) return { reason: 'no Node headers in /usr/include/node, and node-gyp cannot download them here' }
  log(`installing ${name}@${version} into ${path.relative(REPO_ROOT, dir)} (node-gyp, nodedir=${nodedir})`)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n')
  const r = cp.spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--foreground-scripts', `${name}@${version}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_nodedir: nodedir },
  })
  if (r.status !== 0 || !fs.existsSync(path.join(modDir, built))) {
    const out = `${r.stdout || ''}${r.stderr || ''}`.trim().split('\n').slice(-6).join(' | ')
    return { reason: `npm install ${name}@${version} failed to build: ${out || r.error}` }
  }
  const err = tryLoad()
  return err ? { reason: `${name} built but does not load: ${err}` } : { path: modDir, version }
}

/** The `sd-notify` npm package (node-gyp + libsystemd), the incumbent. */
const installSdNotify = () => installNative({ name: 'sd-notify', version: SD_NOTIFY_VERSION, built: 'build/Release/notify.node', probe: 'm.watchdogInterval()' })

/** The `systemd-journald` npm package (node-gyp + libsystemd), a journal writer. */
const installSystemdJournald = () =>
  installNative({ name: 'systemd-journald', version: SYSTEMD_JOURNALD_VERSION, built: 'build/Release/journal_send.node', probe: "if (typeof m.info !== 'function') throw new Error('no info()')" })

/** The real interpreter behind `python3` (pyenv's shim is a bash script that would be timed too). */
function findPython() {
  const r = cp.spawnSync('python3', ['-c', 'import sys; print(sys.executable, sys.version.split()[0])'], { encoding: 'utf8' })
  if (r.status !== 0) return null
  const [exe, version] = r.stdout.trim().split(' ')
  return { exe, version }
}

function firstLine(cmd, args) {
  try {
    return cp.execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim()
  } catch {
    return 'unavailable'
  }
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: model,
    cores: os.cpus().length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    distro: /^PRETTY_NAME="?(.*?)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown',
    node: process.version,
    systemd: firstLine('systemctl', ['--version']),
    rustc: firstLine('rustc', ['--version']),
    commit: firstLine('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']),
    dirty: firstLine('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'lib', 'index.js', 'Cargo.toml']) !== '',
  }
}

module.exports = {
  timedLoop,
  BENCH_DIR,
  REPO_ROOT,
  FLOOR_BIN,
  NAPI_FLOOR,
  SCRATCH_DIR,
  sleep,
  median,
  quantile,
  log,
  runChecked,
  buildFloor,
  startDrainer,
  installSdNotify,
  installSystemdJournald,
  findPython,
  machineInfo,
}
