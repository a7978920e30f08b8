'use strict'
// Reads the glibc symbol versions an ELF shared object needs (its SHT_GNU_verneed section), so
// the release proves each linux-*-gnu binary loads on the oldest glibc it promises.
//
//   node scripts/glibc-floor.js sd-notify-rs.linux-arm64-gnu.node ...
//
// prints the newest GLIBC_x.y each file needs, and exits 1 when that is newer than the floor
// GLIBC_FLOOR promises for the platform named in the file name.

const fs = require('node:fs')
const path = require('node:path')

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

const SHT_GNU_VERNEED = 0x6ffffffe

/** Every version name (`GLIBC_2.17`, `GCC_3.0`, ...) the ELF file in `buf` needs, by library. */
function neededVersions(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file')
  const is64 = buf[4] === 2
  const le = buf[5] === 1
  const u16 = (o) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
  const word = (o) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o))

  const shoff = word(is64 ? 0x28 : 0x20)
  const shentsize = u16(is64 ? 0x3a : 0x2e)
  const shnum = u16(is64 ? 0x3c : 0x30)
  const section = (i) => {
    const h = shoff + i * shentsize
    return {
      type: u32(h + 4),
      offset: word(is64 ? h + 0x18 : h + 0x10),
      link: u32(is64 ? h + 0x28 : h + 0x18),
    }
  }
  const cstring = (at) => buf.toString('latin1', at, buf.indexOf(0, at))

  const needed = {}
  for (let i = 0; i < shnum; i++) {
    const verneed = section(i)
    if (verneed.type !== SHT_GNU_VERNEED) continue
    const strtab = section(verneed.link).offset
    // Elf_Verneed and Elf_Vernaux have the same layout in 32- and 64-bit files.
    for (let vn = verneed.offset, more = true; more; ) {
      const count = u16(vn + 2)
      const file = cstring(strtab + u32(vn + 4))
      needed[file] ??= []
      for (let k = 0, aux = vn + u32(vn + 8); k < count; k++) {
        needed[file].push(cstring(strtab + u32(aux + 8)))
        aux += u32(aux + 12)
      }
      const next = u32(vn + 12)
      more = next !== 0
      vn += next
    }
  }
  return needed
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
  const versions = Object.values(neededVersions(fs.readFileSync(file)))
    .flat()
    .map((name) => /^GLIBC_(\d+\.\d+(?:\.\d+)?)$/.exec(name)?.[1])
    .filter(Boolean)
  return versions.sort(compareVersions).pop() ?? null
}

if (require.main === module) {
  let failed = false
  for (const file of process.argv.slice(2)) {
    const floor = glibcFloor(file)
    const platform = /\.(linux-[^.]+)\.node$/.exec(path.basename(file))?.[1]
    const promised = GLIBC_FLOOR[platform]
    const ok = !promised || !floor || compareVersions(floor, promised) <= 0
    failed ||= !ok
    console.log(`${file}: needs glibc ${floor ?? '(none)'}${promised ? `, promised ${promised}` : ''}${ok ? '' : ' -- TOO NEW'}`)
  }
  process.exit(failed ? 1 : 0)
}

module.exports = { GLIBC_FLOOR, neededVersions, glibcFloor, compareVersions }
