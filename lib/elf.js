'use strict'
// The one ELF reader of the package: lib/loader.js asks it which libc started this process (the
// program interpreter), the release scripts what a built binary is (header fields) and which
// glibc it needs (symbol versions). The file is read piecewise: /proc/self/exe is the whole Node.js
// executable, of which only a few hundred bytes are wanted.

const fs = require('node:fs')

const PT_INTERP = 3
const SHT_GNU_VERNEED = 0x6ffffffe

/** Calls `fn` with the parsed header of the ELF file `file` and readers over the open file. */
function withElf(file, fn) {
  const fd = fs.openSync(file, 'r')
  try {
    const read = (at, length) => {
      const buf = Buffer.alloc(length)
      return buf.subarray(0, fs.readSync(fd, buf, 0, length, at))
    }
    const h = read(0, 64)
    if (h.length < 52 || h.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`)
    const is64 = h[4] === 2
    const le = h[5] === 1
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o))
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o))
    const word = (b, o) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o))
    const header = {
      bits: { 1: 32, 2: 64 }[h[4]],
      endian: { 1: 'LE', 2: 'BE' }[h[5]],
      type: u16(h, 0x10),
      machine: u16(h, 0x12),
      flags: u32(h, is64 ? 0x30 : 0x24),
    }
    return fn({ header, h, is64, read, u16, u32, word })
  } finally {
    fs.closeSync(fd)
  }
}

/** The header fields a loader rejects a binary for: `{ bits, endian, type, machine, flags }`. */
const elfHeader = (file) => withElf(file, (e) => e.header)

/**
 * The program interpreter (PT_INTERP) of an executable, e.g. `/lib/ld-musl-x86_64.so.1`, or null
 * for a static one: for /proc/self/exe, the libc this very process was started with.
 */
function readInterpreter(exe = '/proc/self/exe') {
  return withElf(exe, ({ h, is64, read, u16, u32, word }) => {
    const [phoff, phentsize, phnum] = [word(h, is64 ? 0x20 : 0x1c), u16(h, is64 ? 0x36 : 0x2a), u16(h, is64 ? 0x38 : 0x2c)]
    const table = read(phoff, phentsize * phnum)
    for (let i = 0; i < phnum; i++) {
      const ph = i * phentsize
      if (u32(table, ph) !== PT_INTERP) continue
      const path = read(word(table, ph + (is64 ? 8 : 4)), word(table, ph + (is64 ? 32 : 16)))
      return path.toString('latin1').replace(/\0.*$/s, '')
    }
    return null
  })
}

/** Every symbol version (`GLIBC_2.17`, `GCC_3.0`, ...) a shared object needs (SHT_GNU_VERNEED), by library. */
function neededVersions(file) {
  return withElf(file, ({ h, is64, read, u16, u32, word }) => {
    const [shoff, shentsize, shnum] = [word(h, is64 ? 0x28 : 0x20), u16(h, is64 ? 0x3a : 0x2e), u16(h, is64 ? 0x3c : 0x30)]
    const table = read(shoff, shentsize * shnum)
    const section = (i) => {
      const s = i * shentsize
      return { type: u32(table, s + 4), offset: word(table, is64 ? s + 0x18 : s + 0x10), size: word(table, is64 ? s + 0x20 : s + 0x14), link: u32(table, is64 ? s + 0x28 : s + 0x18) }
    }
    const needed = {}
    for (let i = 0; i < shnum; i++) {
      const verneed = section(i)
      if (verneed.type !== SHT_GNU_VERNEED) continue
      const strtab = section(verneed.link)
      const strings = read(strtab.offset, strtab.size)
      const cstring = (at) => strings.toString('latin1', at, strings.indexOf(0, at))
      const data = read(verneed.offset, verneed.size)
      // Elf_Verneed and Elf_Vernaux have the same layout in 32- and 64-bit files.
      for (let vn = 0, more = true; more; ) {
        const file = cstring(u32(data, vn + 4))
        needed[file] ??= []
        for (let k = 0, aux = vn + u32(data, vn + 8); k < u16(data, vn + 2); k++) {
          needed[file].push(cstring(u32(data, aux + 8)))
          aux += u32(data, aux + 12)
        }
        const next = u32(data, vn + 12)
        more = next !== 0
        vn += next
      }
    }
    return needed
  })
}

module.exports = { elfHeader, readInterpreter, neededVersions }
