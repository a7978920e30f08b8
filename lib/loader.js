'use strict'
// Finds the native addon for this platform. Only Linux needs one: elsewhere the no-op layer loads.

const { join } = require('node:path')
const { readFileSync } = require('node:fs')

/** True when this Linux process runs on musl libc (Alpine) rather than glibc. */
function isMusl() {
  // The process report names the glibc version it runs on; musl has none. Works without ldd.
  try {
    const header = process.report?.getReport?.().header
    if (header) return !header.glibcVersionRuntime
  } catch {}
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {}
  return false
}

/** The napi-rs platform suffix for this process, e.g. `linux-x64-gnu`. */
function platformTriple(platform = process.platform, arch = process.arch) {
  if (platform !== 'linux') return `${platform}-${arch}`
  switch (arch) {
    case 'arm':
      return isMusl() ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
    case 'x64':
    case 'arm64':
    case 'riscv64':
      return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
    default:
      return `linux-${arch}-gnu`
  }
}

/**
 * Loads the native binding: `SD_NOTIFY_RS_NATIVE_PATH` when set, else the file built in this
 * checkout, else the platform package. Throws one error naming what was tried, with every
 * underlying failure as `cause`.
 */
function loadNative() {
  const triple = platformTriple()
  const pkg = `sd-notify-rs-${triple}`
  const candidates = []
  if (process.env.SD_NOTIFY_RS_NATIVE_PATH) candidates.push(process.env.SD_NOTIFY_RS_NATIVE_PATH)
  candidates.push(join(__dirname, '..', `sd-notify-rs.${triple}.node`), pkg)
  const errors = []
  for (const candidate of candidates) {
    try {
      return require(candidate)
    } catch (err) {
      errors.push(err)
    }
  }
  const err = new Error(
    `sd-notify-rs: no native binary for ${triple} (tried ${candidates.join(', ')}). ` +
      `Install the platform package with \`npm install ${pkg}\` (do not use --no-optional / --omit=optional), ` +
      `set SD_NOTIFY_RS_NATIVE_PATH to a built .node file, or build from source with \`npm run build\`.`,
    { cause: errors.length === 1 ? errors[0] : new AggregateError(errors, 'every load attempt failed') },
  )
  err.code = 'ERR_SD_NOTIFY_NO_BINARY'
  throw err
}

module.exports = { loadNative, platformTriple, isMusl }
