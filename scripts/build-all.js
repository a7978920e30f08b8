'use strict'
// Builds every target in package.json's napi.targets into npm/<platform>/ and checks each binary
// (ELF machine, class, byte order, ABI flags, glibc floor, size): what is built and checked here is
// what the release ships.
//
//   node scripts/build-all.js [--target <triple>]... [--jobs <n>] [--check-only] [--no-install]
//                             [--cargo <path>] [--npm-dir <dir>] [--target-dir <dir>]
//
// --cargo runs another cargo than rustc-web's; --npm-dir puts and checks the binaries in
// <dir>/<platform>/ (each with the package.json of npm/<platform>) instead of npm/; --target-dir
// holds the lanes' cargo build directories instead of target/: with all three, a test runs the
// lanes and the report on a stub build (__test__/build-all.test.js). A target is ok
// only when its binary was checked and, unless --check-only, written by this very build.
//
// --jobs n builds n targets at a time (default 1), each lane in its own cargo build directory
// (target/build-all-<lane>/: cargo locks a build directory for the whole build). Compiling a
// standard library is mostly one rustc on one core, so two lanes nearly halve the wall time on two
// cores. Output lines are prefixed with the target when lanes share the terminal.
//
// Runs on Debian bookworm (a CI container or this machine). The toolchain is installed on first
// use: Debian's rustc-web (rustc and cargo 1.96, beside any rustup toolchain) with rust-web-src
// for targets whose standard library Debian does not ship prebuilt (compiled with -Zbuild-std),
// and zig from PyPI as the linker of every target, so glibc binaries link against the old glibc
// that scripts/targets.js promises (GLIBC_FLOOR) instead of the build machine's.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { GLIBC_FLOOR, target, binaryPath, checkBinary, releaseTargets } = require('./targets')
const { aptInstall } = require('./apt')
const { run, spawnCollect, parseArgs: parse, inLanes } = require('./common')

const ROOT = path.join(__dirname, '..')
const CACHE = path.join(ROOT, '.cache')
const ZIG_PYPI = 'ziglang==0.17.1'
const ZIG_DIR = path.join(CACHE, 'pip')
const RUSTC = '/usr/bin/rustc' // rustc-web's, whatever rustup puts first on PATH
const CARGO = '/usr/bin/cargo'

/** The Debian packages the targets need, and the foreign dpkg architectures those imply. */
function debianNeeds(targets) {
  const packages = new Set(['rustc-web', 'cargo-web'])
  const archs = new Set()
  for (const t of targets) {
    if (t.std === 'build') packages.add('rust-web-src')
    const arch = /^debian:(.+)$/.exec(t.std)?.[1]
    if (arch) {
      archs.add(arch)
      packages.add(`libstd-rust-web-dev:${arch}`)
    }
  }
  return { packages: [...packages], archs: [...archs] }
}

/**
 * Installs what is missing (apt, then zig into .cache/pip); does nothing when all is there.
 * `extra` ({ packages, archs }) joins the same apt run (one index update instead of two).
 */
function installToolchain(targets, extra = { packages: [], archs: [] }) {
  const needs = debianNeeds(targets)
  const packages = [...new Set([...needs.packages, ...extra.packages])]
  const archs = [...new Set([...needs.archs, ...extra.archs])]
  const hasPip = spawnSync('python3', ['-m', 'pip', '--version']).status === 0
  if (!hasPip && !fs.existsSync(path.join(ZIG_DIR, 'ziglang'))) packages.push('python3-pip')
  aptInstall(packages, archs)
  if (!fs.existsSync(path.join(ZIG_DIR, 'ziglang'))) {
    console.log(`installing ${ZIG_PYPI} into ${path.relative(ROOT, ZIG_DIR)}`)
    run('python3', ['-m', 'pip', 'install', '--quiet', '--break-system-packages', '--target', ZIG_DIR, ZIG_PYPI], { stdio: 'inherit' })
  }
  const version = spawnSync(RUSTC, ['--version'], { encoding: 'utf8' }).stdout?.trim()
  if (!version) throw new Error(`${RUSTC} (rustc-web) does not run: install rustc-web from bookworm-security`)
  return version
}

/** A linker for `t`: zig, aimed at the target's libc (and, for glibc, the promised floor). */
function linkerFor(t) {
  const zigTarget = t.musl ? t.zig : `${t.zig}.${GLIBC_FLOOR[t.platform]}`
  const file = path.join(CACHE, 'zigcc', t.triple)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, `#!/bin/sh\nPYTHONPATH='${ZIG_DIR}' exec python3 -m ziglang cc -target ${zigTarget} "$@"\n`, { mode: 0o755 })
  return file
}

/** Lane `lane`'s cargo build directory, under `targetDir`. */
const laneDir = (lane, targetDir = path.join(ROOT, 'target')) => path.join(targetDir, `build-all-${lane}`)

// The standard library's features when -Zbuild-std compiles it: unwinding (the addon's panic
// boundary catches panics with catch_unwind), and no backtrace symbolization (cargo's default
// adds std's `backtrace` feature: addr2line, gimli, object, miniz_oxide, compiled per target for
// a panic message's backtrace, which a stripped release binary cannot symbolize anyway).
const BUILD_STD = ['-Zbuild-std=std,panic_unwind', '-Zbuild-std-features=panic-unwind']

/**
 * Builds `t` with cargo (the crate is a cdylib; no JavaScript is generated) in lane `lane`'s build
 * directory, then puts the binary into npm/<platform>/ (written aside and renamed: tests that run
 * meanwhile see the old binary or the new one, never half of one). `prefix` tags output lines.
 */
async function build(t, lane = 0, prefix, { cargo = CARGO, npmDir, targetDir } = {}) {
  const key = t.triple.toUpperCase().replace(/[-.]/g, '_')
  const env = { ...process.env, RUSTC, CARGO_TARGET_DIR: laneDir(lane, targetDir), [`CARGO_TARGET_${key}_LINKER`]: linkerFor(t) }
  // napi-rs links musl addons dynamically: they are loaded into a Node that has its own libc.
  if (t.musl) env[`CARGO_TARGET_${key}_RUSTFLAGS`] = '-C target-feature=-crt-static'
  const args = ['build', '--release', '--lib', '--target', t.triple]
  if (t.std === 'build') {
    env.RUSTC_BOOTSTRAP = '1' // -Zbuild-std on a stable compiler
    args.push(...BUILD_STD)
  }
  // Alone, cargo writes to the terminal; in lanes, each line behind its target's prefix.
  const { status, out: said } = await spawnCollect(cargo, args, { cwd: ROOT, env, ...(prefix ? { prefix: `${prefix} ` } : { stdio: 'inherit' }) })
  if (status === -1) throw new Error(said.split('\n').pop()) // cargo could not be started
  if (status !== 0) throw new Error(`cargo ${args.join(' ')} exited with ${status}`)
  const out = path.join(laneDir(lane, targetDir), t.triple, 'release', 'libsd_notify_rs.so')
  const dest = binaryPath(t, npmDir)
  fs.copyFileSync(out, `${dest}.partial`)
  fs.renameSync(`${dest}.partial`, dest)
}

/**
 * Builds (unless checkOnly) and checks each target, `jobs` at a time; returns a row per target.
 * A row is ok only when its binary was checked and, after a build, written during that build:
 * a target no lane reached, or whose binary is older than its build, is a failure.
 */
async function buildAndCheck(targets, { jobs = 1, checkOnly = false, cargo, npmDir, targetDir } = {}) {
  const rows = targets.map((t) => ({ target: t.triple, seconds: '-', problems: [], checked: false }))
  await inLanes(targets.keys(), jobs, async (i, lane) => {
    const t = targets[i]
    const row = rows[i]
    const started = Date.now()
    try {
      if (!checkOnly) await build(t, lane, jobs > 1 ? `[${t.platform}]` : undefined, { cargo, npmDir, targetDir })
      row.seconds = checkOnly ? '-' : ((Date.now() - started) / 1000).toFixed(0)
      const file = binaryPath(t, npmDir)
      // mtime has a coarser clock than Date.now() on some filesystems: a second of slack.
      if (!checkOnly && fs.statSync(file).mtimeMs < started - 1000) throw new Error(`${path.relative(ROOT, file)} was not written by this build`)
      Object.assign(row, checkBinary(t, file), { checked: true })
    } catch (err) {
      row.problems.push(err.message)
    }
    console.log(`build-all: ${t.triple}: ${row.problems.length ? `FAIL: ${row.problems.join('; ')}` : `ok in ${row.seconds} s`}`)
  })
  for (const row of rows) if (!row.checked && !row.problems.length) row.problems.push('neither built nor checked')
  return rows
}

/** The table build-all prints. */
function buildTable(rows) {
  const lines = ['target                         machine bits order glibc   size(KiB) build(s) result']
  for (const r of rows) {
    const cells = [r.target.padEnd(30), String(r.machine ?? '-').padEnd(7), String(r.bits ?? '-').padEnd(4), (r.endian ?? '-').padEnd(5)]
    cells.push((r.glibc ?? (r.size ? 'none' : '-')).padEnd(7), String(r.size ? Math.round(r.size / 1024) : '-').padEnd(9), r.seconds.padEnd(8))
    cells.push(r.problems.length ? `FAIL: ${r.problems.join('; ')}` : 'ok')
    lines.push(cells.join(' '))
  }
  return lines.join('\n')
}

function parseArgs(argv) {
  const spec = { target: 'list', jobs: 'jobs', 'check-only': 'flag', 'no-install': 'flag', cargo: 'value', 'npm-dir': 'value', 'target-dir': 'value' }
  const opts = parse(argv, spec, { jobs: 1, checkOnly: false })
  for (const k of ['cargo', 'npmDir', 'targetDir']) if (opts[k]) opts[k] = path.resolve(opts[k])
  return { ...opts, triples: opts.target, install: !opts.noInstall }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const targets = (opts.triples.length ? opts.triples : releaseTargets()).map(target)
  if (!opts.checkOnly) {
    const version = opts.install ? installToolchain(targets) : 'rustc-web (not checked: --no-install)'
    console.log(`building ${targets.length} target(s) with ${version} and zig, ${opts.jobs} at a time`)
  }
  const rows = await buildAndCheck(targets, opts)
  console.log(`\n${buildTable(rows)}`)
  const failed = rows.filter((r) => r.problems.length).length
  console.log(failed ? `\n${failed} of ${rows.length} target(s) failed` : `\nall ${rows.length} target(s) built and checked`)
  return failed ? 1 : 0
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`build-all: ${err.message}`)
      process.exitCode = 1
    },
  )
}

module.exports = { debianNeeds, parseArgs, installToolchain, build, buildAndCheck, buildTable, inLanes }
