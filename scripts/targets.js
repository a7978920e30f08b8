'use strict'
// Every target in package.json's napi.targets, declared once: how scripts/build-all.js builds it
// here and what its binary must look like (checked by build-all and __test__/targets.test.js).

const fs = require('node:fs')
const path = require('node:path')
const { elfHeader, neededVersions } = require('../lib/elf')

const ROOT = path.join(__dirname, '..')

// e_machine values from the ELF specification / <elf.h>.
const EM = { X86_64: 62, AARCH64: 183, ARM: 40, RISCV: 243, PPC64: 21, S390: 22 }

/**
 * triple -> facts. `zig`: the target zig links for (gnu targets get the glibc floor appended);
 * `std`: where the standard library comes from: rustc-web's own (`host`), Debian's prebuilt
 * `libstd-rust-web-dev:<arch>` (`debian:<arch>`), or compiled from rust-web-src (`build`);
 * `flags`: an ABI bit e_flags must carry, when the architecture has more than one ABI.
 */
const TARGETS = {
  'x86_64-unknown-linux-gnu': { platform: 'linux-x64-gnu', machine: EM.X86_64, bits: 64, endian: 'LE', zig: 'x86_64-linux-gnu', std: 'host' },
  'x86_64-unknown-linux-musl': { platform: 'linux-x64-musl', machine: EM.X86_64, bits: 64, endian: 'LE', zig: 'x86_64-linux-musl', std: 'build' },
  'aarch64-unknown-linux-gnu': {
    platform: 'linux-arm64-gnu',
    machine: EM.AARCH64,
    bits: 64,
    endian: 'LE',
    zig: 'aarch64-linux-gnu',
    std: 'debian:arm64',
  },
  'aarch64-unknown-linux-musl': { platform: 'linux-arm64-musl', machine: EM.AARCH64, bits: 64, endian: 'LE', zig: 'aarch64-linux-musl', std: 'build' },
  'armv7-unknown-linux-gnueabihf': {
    platform: 'linux-arm-gnueabihf',
    machine: EM.ARM,
    bits: 32,
    endian: 'LE',
    zig: 'arm-linux-gnueabihf',
    std: 'build',
    flags: { mask: 0x400, value: 0x400, what: 'EF_ARM_ABI_FLOAT_HARD (hard-float ABI)' },
  },
  'riscv64gc-unknown-linux-gnu': {
    platform: 'linux-riscv64-gnu',
    machine: EM.RISCV,
    bits: 64,
    endian: 'LE',
    zig: 'riscv64-linux-gnu',
    std: 'build',
    flags: { mask: 0x6, value: 0x4, what: 'EF_RISCV_FLOAT_ABI_DOUBLE (lp64d ABI)' },
  },
  'powerpc64le-unknown-linux-gnu': {
    platform: 'linux-ppc64-gnu',
    machine: EM.PPC64,
    bits: 64,
    endian: 'LE',
    zig: 'powerpc64le-linux-gnu',
    std: 'build',
    flags: { mask: 0x3, value: 0x2, what: 'ELFv2 ABI' },
  },
  's390x-unknown-linux-gnu': { platform: 'linux-s390x-gnu', machine: EM.S390, bits: 64, endian: 'BE', zig: 's390x-linux-gnu', std: 'build' },
}

/** The binaries are stripped cdylibs of a few hundred KiB: outside this range something is off. */
const SIZE_RANGE = { min: 64 * 1024, max: 4 * 1024 * 1024 }

/** The facts of `triple`, or an error naming the triples that exist. */
function target(triple) {
  const facts = TARGETS[triple]
  if (!facts) throw new Error(`unknown target ${triple}: expected one of ${Object.keys(TARGETS).join(', ')}`)
  return { triple, musl: triple.endsWith('-musl'), ...facts }
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

/** The triples package.json's napi.targets lists, each checked to be declared here. */
function releaseTargets() {
  const { napi } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  return napi.targets.map((triple) => target(triple).triple)
}

module.exports = { TARGETS, SIZE_RANGE, GLIBC_FLOOR, target, binaryPath, checkBinary, releaseTargets, glibcFloor, compareVersions }
