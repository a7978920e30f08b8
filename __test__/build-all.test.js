'use strict'

// `npm run build:all` reports a target ok only when it built and checked that target's binary:
// its lanes and its report run here on a stub cargo (--cargo) that writes a fake binary, or
// nothing, into a scratch build directory (--target-dir) and scratch platform packages
// (--npm-dir), so no Rust is compiled and the checkout's npm/ and target/ are not touched.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const MUSL = 'x86_64-unknown-linux-musl'
const GNU = 'x86_64-unknown-linux-gnu'

let work
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-build-all-'))
  for (const platform of ['linux-x64-musl', 'linux-x64-gnu']) {
    fs.mkdirSync(path.join(work, 'npm', platform), { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'npm', platform, 'package.json'), path.join(work, 'npm', platform, 'package.json'))
  }
  // A 200 KiB x86-64 shared object header: what checkBinary wants of a musl binary.
  const elf = Buffer.alloc(200 * 1024)
  elf.writeUInt32BE(0x7f454c46, 0)
  elf[4] = 2 // 64-bit
  elf[5] = 1 // little-endian
  elf.writeUInt16LE(3, 0x10) // ET_DYN
  elf.writeUInt16LE(62, 0x12) // EM_X86_64
  fs.mkdirSync(path.join(work, 'built'))
  fs.writeFileSync(path.join(work, 'built', `${MUSL}.so`), elf)
  // The stub cargo "builds" a target by copying work/built/<triple>.so where cargo would put it,
  // and builds nothing (but exits 0) for a target with no such file.
  const stub = path.join(work, 'cargo')
  fs.writeFileSync(
    stub,
    `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --target ] && triple=$2; shift; done
echo "$triple" >> '${work}/calls'
[ -f '${work}/built/'"$triple.so" ] || exit 0
mkdir -p "$CARGO_TARGET_DIR/$triple/release"
cp '${work}/built/'"$triple.so" "$CARGO_TARGET_DIR/$triple/release/libsd_notify_rs.so"
`,
    { mode: 0o755 },
  )
})
after(() => fs.rmSync(work, { recursive: true, force: true }))

function buildAll(...args) {
  fs.rmSync(path.join(work, 'target'), { recursive: true, force: true })
  fs.rmSync(path.join(work, 'calls'), { force: true })
  const r = cp.spawnSync(
    process.execPath,
    [path.join(ROOT, 'scripts', 'build-all.js'), '--no-install', '--cargo', path.join(work, 'cargo'), '--npm-dir', path.join(work, 'npm'), '--target-dir', path.join(work, 'target'), ...args],
    { encoding: 'utf8', timeout: 60_000 },
  )
  const calls = fs.existsSync(path.join(work, 'calls')) ? fs.readFileSync(path.join(work, 'calls'), 'utf8').trim().split('\n') : []
  // The report's row of each target: `triple machine bits order glibc size build result`.
  const rows = Object.fromEntries(r.stdout.split('\n').filter((l) => /^\S+-linux-\S+ /.test(l)).map((l) => [l.split(/\s+/)[0], l.split(/\s+/)]))
  return { ...r, calls, rows }
}

test('build:all builds a target, checks the binary it wrote, and reports that binary', () => {
  const r = buildAll('--target', MUSL, '--jobs', '1')
  assert.deepEqual(r.calls, [MUSL], 'the build ran once')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /all 1 target\(s\) built and checked/)
  assert.deepEqual(r.rows[MUSL].slice(1, 6), ['62', '64', 'LE', 'none', '200'])
  assert.equal(r.rows[MUSL].at(-1), 'ok')
})

test('build:all --jobs 2 runs every target; one that leaves no fresh binary fails the run, whatever binary was there', () => {
  // An old binary from an earlier build sits in the gnu package: it must not pass for a new one.
  const old = path.join(work, 'npm', 'linux-x64-gnu', 'sd-notify-rs.linux-x64-gnu.node')
  fs.copyFileSync(path.join(work, 'built', `${MUSL}.so`), old)
  fs.utimesSync(old, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000))
  const r = buildAll('--target', MUSL, '--target', GNU, '--jobs', '2')
  assert.deepEqual(r.calls.sort(), [GNU, MUSL])
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.stdout, /1 of 2 target\(s\) failed/)
  assert.equal(r.rows[MUSL].at(-1), 'ok')
  assert.match(r.rows[GNU].join(' '), /FAIL: /)
  assert.deepEqual(r.rows[GNU].slice(1, 6), ['-', '-', '-', '-', '-'], 'no column comes from the stale binary')
  fs.rmSync(old)
})

test('build:all --check-only fails for a target whose binary is missing', () => {
  const r = buildAll('--check-only', '--target', GNU)
  assert.deepEqual(r.calls, [], 'nothing was built')
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.match(r.rows[GNU].join(' '), /FAIL: ENOENT/)
})
