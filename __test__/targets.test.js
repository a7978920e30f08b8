'use strict'

// The binary of every release target as `npm run build:all` leaves it in npm/<platform>/: the ELF
// machine, class, byte order and ABI its platform runs, the glibc floor the README promises, a
// plausible size. Without build:all the binaries are absent and these tests skip, unless
// SD_NOTIFY_RS_REQUIRE_ALL_TARGETS is set, where an absent binary fails, or
// SD_NOTIFY_RS_REQUIRE_TARGETS names the platforms that must be there (CI builds a subset).

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { GLIBC_FLOOR, target, binaryPath, checkBinary, releaseTargets, compareVersions } = require('../scripts/targets')

const ROOT = path.join(__dirname, '..')
const REQUIRE_ALL = Boolean(process.env.SD_NOTIFY_RS_REQUIRE_ALL_TARGETS)
const REQUIRED_SOME = new Set((process.env.SD_NOTIFY_RS_REQUIRE_TARGETS ?? '').split(',').filter(Boolean))
const required = (platform) => REQUIRE_ALL || REQUIRED_SOME.has(platform)

test('SD_NOTIFY_RS_REQUIRE_TARGETS names only real platforms', () => {
  const known = new Set(releaseTargets().map((triple) => target(triple).platform))
  for (const p of REQUIRED_SOME) assert.ok(known.has(p), `${p} is not a platform of napi.targets`)
})
// What npm's `cpu` field calls each ELF machine.
const NPM_CPU = { 62: 'x64', 183: 'arm64', 40: 'arm', 243: 'riscv64', 21: 'ppc64', 22: 's390x' }

test("every target's platform, zig target and standard library derive from its triple in napi.targets", () => {
  const facts = Object.fromEntries(releaseTargets().map((triple) => [triple, ((t) => `${t.platform} ${t.zig} ${t.std}`)(target(triple))]))
  assert.deepEqual(facts, {
    'x86_64-unknown-linux-gnu': 'linux-x64-gnu x86_64-linux-gnu host',
    'x86_64-unknown-linux-musl': 'linux-x64-musl x86_64-linux-musl build',
    'aarch64-unknown-linux-gnu': 'linux-arm64-gnu aarch64-linux-gnu debian:arm64',
    'aarch64-unknown-linux-musl': 'linux-arm64-musl aarch64-linux-musl build',
    'armv7-unknown-linux-gnueabihf': 'linux-arm-gnueabihf arm-linux-gnueabihf build',
    'riscv64gc-unknown-linux-gnu': 'linux-riscv64-gnu riscv64-linux-gnu build',
    'powerpc64le-unknown-linux-gnu': 'linux-ppc64-gnu powerpc64le-linux-gnu build',
    's390x-unknown-linux-gnu': 'linux-s390x-gnu s390x-linux-gnu build',
  })
  assert.throws(() => target('x86_64-pc-windows-msvc'), /unknown target x86_64-pc-windows-msvc/)
  assert.throws(() => target('mips64-unknown-linux-gnu'), /unknown target/)
})

test("each target's ELF machine and libc are the cpu and libc its platform package installs on", () => {
  for (const triple of releaseTargets()) {
    const t = target(triple)
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', t.platform, 'package.json'), 'utf8'))
    assert.deepEqual(pkg.cpu, [NPM_CPU[t.machine]], t.platform)
    assert.deepEqual(pkg.libc, [t.musl ? 'musl' : 'glibc'], t.platform)
    assert.equal(Boolean(GLIBC_FLOOR[t.platform]), !t.musl, `${t.platform}: a glibc floor exactly when it links glibc`)
  }
})

for (const triple of releaseTargets()) {
  const t = target(triple)
  const file = binaryPath(t)
  const absent = !fs.existsSync(file)
  const skip =
    absent && !required(t.platform)
      ? `${path.relative(ROOT, file)} is not built: run npm run build:all (SD_NOTIFY_RS_REQUIRE_ALL_TARGETS=1 makes this a failure)`
      : false
  const libc = t.musl ? 'musl' : `glibc ${GLIBC_FLOOR[t.platform]}+`
  test(`${t.platform}: a ${t.bits}-bit ${t.endian} shared object for ELF machine ${t.machine}, ${libc}`, { skip }, () => {
    assert.ok(fs.existsSync(file), `${path.relative(ROOT, file)} is missing: run npm run build:all`)
    assert.deepEqual(checkBinary(t, file).problems, [])
  })
}

/** An ELF header (and nothing else) padded to `size` bytes, with the given fields. */
function fakeElf({ bits = 64, endian = 'LE', type = 3, machine = 62, flags = 0, size = 200 * 1024 }) {
  const buf = Buffer.alloc(size)
  buf.writeUInt32BE(0x7f454c46, 0)
  buf[4] = bits === 64 ? 2 : 1
  buf[5] = endian === 'LE' ? 1 : 2
  const w16 = (v, o) => (endian === 'LE' ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o))
  const w32 = (v, o) => (endian === 'LE' ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o))
  w16(type, 0x10)
  w16(machine, 0x12)
  w32(flags, bits === 64 ? 0x30 : 0x24)
  const file = path.join(fakeDir(), `fake-${++fakes}.node`)
  fs.writeFileSync(file, buf)
  return file
}

// One directory for the fake binaries of this file, removed when its tests are done.
let dir = null
let fakes = 0
function fakeDir() {
  if (!dir) dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-elf-'))
  return dir
}
after(() => dir && fs.rmSync(dir, { recursive: true, force: true }))

test('the check names each way a binary can be wrong', () => {
  const problems = (t, fields) => checkBinary(target(t), fakeElf(fields)).problems.join('; ')
  assert.match(problems('aarch64-unknown-linux-gnu', { machine: 62 }), /ELF machine is 62, expected 183/)
  assert.match(problems('s390x-unknown-linux-gnu', { machine: 22 }), /byte order is LE, expected BE/)
  assert.match(problems('armv7-unknown-linux-gnueabihf', { bits: 32, machine: 40 }), /lacks EF_ARM_ABI_FLOAT_HARD/)
  assert.match(problems('armv7-unknown-linux-gnueabihf', { bits: 64, machine: 40, flags: 0x400 }), /ELF class \(bits\) is 64, expected 32/)
  assert.match(problems('powerpc64le-unknown-linux-gnu', { machine: 21, flags: 1 }), /lacks ELFv2 ABI/)
  assert.match(problems('x86_64-unknown-linux-gnu', { type: 2 }), /ELF type is 2, expected 3/)
  assert.match(problems('x86_64-unknown-linux-gnu', {}), /not linked against glibc/)
  assert.match(problems('x86_64-unknown-linux-musl', { size: 1024 }), /size 1024 bytes is outside/)
  assert.equal(problems('x86_64-unknown-linux-musl', {}), '')
})

test('a glibc binary that needs a newer glibc than its floor is refused', { skip: process.platform !== 'linux' }, (t) => {
  // The local build (npm run build) links against this machine's glibc, newer than the 2.17 floor.
  const local = path.join(ROOT, `sd-notify-rs.linux-${process.arch}-gnu.node`)
  if (process.arch !== 'x64' || !fs.existsSync(local)) return t.skip('needs the local x64 build of npm run build')
  const { glibc, problems } = checkBinary(target('x86_64-unknown-linux-gnu'), local)
  if (compareVersions(glibc, GLIBC_FLOOR['linux-x64-gnu']) <= 0) return t.skip(`the local build needs only glibc ${glibc}`)
  assert.match(problems.join('; '), new RegExp(`needs glibc ${glibc.replace('.', '\\.')}, newer than the promised floor 2\\.17`))
})
