'use strict'
// The targets of package.json's napi.targets (the one list of them): how scripts/build-all.js
// builds each here and what its binary must look like (checked by build-all and
// __test__/targets.test.js), derived from the triple and the facts of its architecture.

const fs = require('node:fs')
const path = require('node:path')
const { elfHeader, neededVersions } = require('../lib/elf')

const ROOT = path.join(__dirname, '..')

/**
 * What each architecture of napi.targets is, by the first part of its Rust triple: npm's name for
 * it, its ELF machine (e_machine, from <elf.h>), class and byte order, zig's name for it,
 * `flags`: an ABI bit e_flags must carry when the architecture has more than one ABI, `debian`:
 * the architecture whose Debian package libstd-rust-web-dev has its prebuilt glibc standard
 * library, and `docker`: its platform for the release workflow's containers.
 */
const ARCHS = {
  x86_64: { npm: 'x64', machine: 62, bits: 64, endian: 'LE', zig: 'x86_64', docker: 'linux/amd64' },
  aarch64: { npm: 'arm64', machine: 183, bits: 64, endian: 'LE', zig: 'aarch64', debian: 'arm64', docker: 'linux/arm64' },
  armv7: {
    npm: 'arm',
    machine: 40,
    bits: 32,
    endian: 'LE',
    zig: 'arm',
    flags: { mask: 0x400, value: 0x400, what: 'EF_ARM_ABI_FLOAT_HARD (hard-float ABI)' },
    docker: 'linux/arm/v7',
  },
  riscv64gc: {
    npm: 'riscv64',
    machine: 243,
    bits: 64,
    endian: 'LE',
    zig: 'riscv64',
    flags: { mask: 0x6, value: 0x4, what: 'EF_RISCV_FLOAT_ABI_DOUBLE (lp64d ABI)' },
    docker: 'linux/riscv64',
  },
  powerpc64le: { npm: 'ppc64', machine: 21, bits: 64, endian: 'LE', zig: 'powerpc64le', flags: { mask: 0x3, value: 0x2, what: 'ELFv2 ABI' }, docker: 'linux/ppc64le' },
  s390x: { npm: 's390x', machine: 22, bits: 64, endian: 'BE', zig: 's390x', docker: 'linux/s390x' },
}

/** The binaries are stripped cdylibs of a few hundred KiB: outside this range something is off. */
const SIZE_RANGE = { min: 64 * 1024, max: 4 * 1024 * 1024 }

/**
 * The facts of a Linux `triple`, all derived from it: `platform` (napi-rs's suffix, npm/<platform>),
 * `zig` (the target zig links for; build-all appends the glibc floor), `std` (where the standard
 * library comes from: rustc-web's own for its host, `host`; Debian's prebuilt
 * `libstd-rust-web-dev:<arch>`, `debian:<arch>`; or compiled from rust-web-src, `build`).
 */
function target(triple) {
  const [, arch, abi] = /^([^-]+)-unknown-linux-(gnu|gnueabihf|musl)$/.exec(triple) ?? []
  const facts = ARCHS[arch]
  if (!facts) throw new Error(`unknown target ${triple}: build-all knows Linux gnu and musl targets of ${Object.keys(ARCHS).join(', ')}`)
  const musl = abi === 'musl'
  const std = triple === 'x86_64-unknown-linux-gnu' ? 'host' : facts.debian && abi === 'gnu' ? `debian:${facts.debian}` : 'build'
  return { ...facts, triple, musl, platform: `linux-${facts.npm}-${abi}`, zig: `${facts.zig}-linux-${abi}`, std }
}

/** Where the platform package keeps its binary: <npmDir>/<platform>/<its package.json main>. */
function binaryPath(t, npmDir = path.join(ROOT, 'npm')) {
  const dir = path.join(npmDir, t.platform)
  const { main } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  return path.join(dir, main)
}

/**
 * The oldest glibc each glibc platform package runs on: scripts/build-all.js has zig link each
 * binary against exactly this glibc, whatever glibc the build machine has: 2.17, Rust's own
 * minimum, except where glibc came later: ppc64le's ELFv2 ABI (2.19, the oldest zig provides) and
 * riscv64 (Rust's minimum for that target, 2.29).
 */
const GLIBC_FLOOR = {
  'linux-x64-gnu': '2.17',
  'linux-arm64-gnu': '2.17',
  'linux-arm-gnueabihf': '2.17',
  'linux-ppc64-gnu': '2.19',
  'linux-s390x-gnu': '2.17',
  'linux-riscv64-gnu': '2.29',
}

const parse = (v) => v.split('.').map(Number)
/** Compares dotted versions numerically: negative when a < b. */
function compareVersions(a, b) {
  const [x, y] = [parse(a), parse(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d) return d
  }
  return 0
}

/** The newest `GLIBC_x.y[.z]` the file needs, as `x.y[.z]`, or null (musl, or no glibc symbols). */
function glibcFloor(file) {
  const versions = Object.values(neededVersions(file))
    .flat()
    .map((name) => /^GLIBC_(\d+\.\d+(?:\.\d+)?)$/.exec(name)?.[1])
    .filter(Boolean)
  return versions.sort(compareVersions).pop() ?? null
}

/**
 * Checks the binary at `file` against what `t` promises. Returns its facts and `problems`, one
 * sentence each (empty when it is right).
 */
function checkBinary(t, file = binaryPath(t)) {
  const problems = []
  const size = fs.statSync(file).size
  const elf = elfHeader(file)
  const want = (what, got, expected) => {
    if (got !== expected) problems.push(`${what} is ${got}, expected ${expected}`)
  }
  want('ELF type', elf.type, 3) // ET_DYN: a shared object
  want('ELF machine', elf.machine, t.machine)
  want('ELF class (bits)', elf.bits, t.bits)
  want('byte order', elf.endian, t.endian)
  if (t.flags && (elf.flags & t.flags.mask) !== t.flags.value) {
    problems.push(`e_flags 0x${elf.flags.toString(16)} lacks ${t.flags.what}`)
  }
  const glibc = glibcFloor(file)
  if (t.musl) {
    if (glibc) problems.push(`a musl binary needs glibc ${glibc} symbols: it was linked against glibc`)
  } else if (!glibc) {
    problems.push('needs no GLIBC_ symbol versions: it was not linked against glibc')
  } else if (compareVersions(glibc, GLIBC_FLOOR[t.platform]) > 0) {
    problems.push(`needs glibc ${glibc}, newer than the promised floor ${GLIBC_FLOOR[t.platform]}`)
  }
  if (size < SIZE_RANGE.min || size > SIZE_RANGE.max) problems.push(`size ${size} bytes is outside ${SIZE_RANGE.min}..${SIZE_RANGE.max}`)
  return { ...elf, glibc, size, problems }
}

/** The triples package.json's napi.targets lists, each checked to be one build-all knows. */
function releaseTargets() {
  const { napi } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  return napi.targets.map((triple) => target(triple).triple)
}

module.exports = { ARCHS, SIZE_RANGE, GLIBC_FLOOR, target, binaryPath, checkBinary, releaseTargets, glibcFloor, compareVersions }

/**
 * The release workflow's matrices, from napi.targets: `build` (a job per target) and `test` (each
 * platform package in a container of its platform, on Node.js 18 to 24: the official images;
 * none for 32-bit ARM from 24 on, none at all for riscv64, which gets Debian trixie's nodejs).
 */
function workflowMatrices() {
  const targets = releaseTargets().map(target)
  const build = targets.map((t) => ({ target: t.triple, platform: t.platform }))
  const test = targets.flatMap((t) => {
    if (t.npm === 'riscv64') return [{ platform: t.platform, node: 'debian', docker: t.docker, image: 'debian' }]
    const majors = ['18', '20', '22', '24'].filter((n) => !(t.npm === 'arm' && n === '24'))
    return majors.map((node) => ({ platform: t.platform, node, docker: t.docker, image: t.musl ? 'alpine' : 'slim' }))
  })
  return { build, test }
}

module.exports.workflowMatrices = workflowMatrices

// `node scripts/targets.js --github-output`: the matrices as the release workflow's job outputs.
if (require.main === module) {
  for (const [name, value] of Object.entries(workflowMatrices())) console.log(`${name}=${JSON.stringify(value)}`)
}
