'use strict'
// Finds the native addon for this platform. Only Linux needs one: elsewhere the no-op layer loads.

const fs = require('node:fs')
const { join, resolve } = require('node:path')

const ROOT = join(__dirname, '..')
const PACKAGE = 'sd-notify-rs'

/**
 * The platform to act as: `process.platform`, unless `SD_NOTIFY_RS_PLATFORM` (for tests only)
 * names another, either a platform (`darwin`) or a whole triple (`linux-arm64-musl`).
 */
function targetPlatform(env = process.env) {
  const forced = env.SD_NOTIFY_RS_PLATFORM
  return forced ? forced.split('-')[0] : process.platform
}

/** The header of Node's diagnostic report; on glibc it names the glibc version, on musl nothing. */
function reportHeader() {
  const report = process.report
  if (typeof report?.getReport !== 'function') return undefined
  // Only the header is read: skip collecting network interfaces, which can be slow (DNS lookups).
  const hasSwitch = 'excludeNetwork' in report
  const before = report.excludeNetwork
  if (hasSwitch) report.excludeNetwork = true
  try {
    return report.getReport().header
  } finally {
    if (hasSwitch) report.excludeNetwork = before
  }
}

const systemProbe = {
  readMaps: () => fs.readFileSync('/proc/self/maps', 'latin1'),
  // lib/elf.js only when the maps did not say: require() of a working install does not load it.
  readInterpreter: () => require('./elf').readInterpreter(),
  reportHeader,
  readLdd: () => fs.readFileSync('/usr/bin/ldd', 'latin1'),
  listLib: () => fs.readdirSync('/lib'),
}

/**
 * True when this Linux process runs on musl libc (Alpine) rather than glibc. Asks, in order: the
 * libraries mapped into this process (/proc/self/maps), the interpreter of the running
 * executable, the text of /usr/bin/ldd, Node's report header, then whether musl's dynamic loader
 * /lib/ld-musl-<arch>.so.1 exists. A missing or unreadable source is skipped, never taken as glibc.
 */
function isMusl(probe = systemProbe) {
  // The libraries mapped into this very process first: musl's libc is its dynamic loader
  // (ld-musl-<arch>.so.1), glibc's is libc.so.6 (before glibc 2.34 a link to libc-2.NN.so, the
  // name the maps show). One read, and no ELF to parse.
  try {
    const maps = probe.readMaps()
    if (/\/ld-musl-[^/\s]+\.so\.1$/m.test(maps)) return true
    if (/\/libc(\.so\.6|-2\.\d+\.so)$/m.test(maps)) return false
  } catch {}
  // The executable's own interpreter next (where the maps name neither, e.g. Debian's musl, whose
  // loader is a link to .../x86_64-linux-musl/libc.so): like the maps, it is about this process,
  // not the machine, so a musl Node on a glibc host (or the reverse) is told right.
  try {
    const interpreter = probe.readInterpreter()
    if (/\/ld-musl-[^/]+$/.test(interpreter)) return true
    if (/\/ld(64|-linux[^/]*)\.so\.\d$/.test(interpreter)) return false
  } catch {}
  // /usr/bin/ldd next: reading it is cheap and decisive where it exists. process.report is
  // authoritative but costs milliseconds at require() time (`npm run bench`, part 3; bench/NOTES.md),
  // so it only settles what ldd cannot.
  try {
    const ldd = probe.readLdd()
    if (ldd.includes('musl')) return true
    if (/GNU C Library|glibc|GLIBC/.test(ldd)) return false
  } catch {}
  try {
    const header = probe.reportHeader()
    if (header) return !header.glibcVersionRuntime
  } catch {}
  try {
    return probe.listLib().some((name) => /^ld-musl-.+\.so\.1$/.test(name))
  } catch {}
  return false
}

/**
 * The napi-rs platform suffix for this process, e.g. `linux-x64-gnu`: also the suffix of the
 * platform package's name. `SD_NOTIFY_RS_PLATFORM` set to a whole triple (for tests) is used as is.
 */
function platformTriple(platform = process.platform, arch = process.arch, env = process.env, probe = systemProbe) {
  const forced = env.SD_NOTIFY_RS_PLATFORM
  if (forced?.includes('-')) return forced
  if (forced) platform = forced
  if (platform !== 'linux') return `${platform}-${arch}`
  switch (arch) {
    case 'arm':
      return isMusl(probe) ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
    case 'x64':
    case 'arm64':
    case 'riscv64':
      return `linux-${arch}-${isMusl(probe) ? 'musl' : 'gnu'}`
    default:
      return `linux-${arch}-gnu`
  }
}

/** What one failed attempt means for the user, in a few words. */
function why(err) {
  if (err?.code === 'MODULE_NOT_FOUND') return 'not found'
  return `found but failed to load: ${String(err?.message).split('\n')[0]}`
}

/**
 * Loads the native binding. `SD_NOTIFY_RS_NATIVE_PATH`, when set, is the only place looked at
 * (an explicit choice is never silently replaced); otherwise the file built in this checkout,
 * then the platform package `sd-notify-rs-<triple>`. Throws `ERR_SD_NOTIFY_NO_BINARY` naming the
 * platform, what was tried and the fix, with every underlying failure in `cause.errors`.
 * When `SD_NOTIFY_RS_PLATFORM` (tests only) names a platform other than Linux, returns the
 * no-op layer, as index.js does on that platform.
 */
function loadNative(env = process.env, load = require) {
  if (targetPlatform(env) !== 'linux') return require('./noop')
  const triple = platformTriple(process.platform, process.arch, env)
  const pkgName = `${PACKAGE}-${triple}`
  const override = env.SD_NOTIFY_RS_NATIVE_PATH
  const attempts = override
    ? [{ what: `SD_NOTIFY_RS_NATIVE_PATH=${override}`, id: resolve(override) }]
    : [
        { what: `the local build ${join(ROOT, `${PACKAGE}.${triple}.node`)}`, id: join(ROOT, `${PACKAGE}.${triple}.node`) },
        { what: `the package ${pkgName}`, id: pkgName },
      ]
  const errors = []
  for (const attempt of attempts) {
    try {
      // require() runs any other file as JavaScript: only a .node file is loaded as an addon.
      if (override && !attempt.id.endsWith('.node')) throw new Error(`${attempt.id} is not a .node file`)
      return load(attempt.id)
    } catch (err) {
      errors.push(err)
      attempt.outcome = why(err)
    }
  }

  const { version, optionalDependencies = {} } = require('../package.json')
  // The published package lists its platform packages as optionalDependencies; a checkout of the
  // repository has them (unpublished) under npm/<platform>/ instead.
  const published = pkgName in optionalDependencies || fs.existsSync(join(ROOT, 'npm', triple, 'package.json'))
  let fix
  if (override) {
    fix = `Point SD_NOTIFY_RS_NATIVE_PATH at a .node file built for ${triple}, or unset it to use the platform package.`
  } else if (published) {
    fix =
      `Install it: \`npm install ${pkgName}@${version}\`. npm installs it with ${PACKAGE} unless optional ` +
      `dependencies were left out (--omit=optional, --no-optional) or node_modules was installed on another ` +
      `platform and copied here (install again on this machine). Or build from source: see docs/platforms.md#when-no-binary-loads.`
  } else {
    fix =
      `No prebuilt binary for ${triple} was installed: either none is published for this platform, or this ` +
      `copy of ${PACKAGE} was installed without its platform package (a tarball of the main package alone). ` +
      `Install ${pkgName} beside it, or build from source and set SD_NOTIFY_RS_NATIVE_PATH to the built .node file: ` +
      `see docs/platforms.md#when-no-binary-loads.`
  }
  const tried = attempts.map((a) => `${a.what}: ${a.outcome}`).join('; ')
  // lib/errors.js only now: require() of a working install does not load it.
  const err = require('./errors').codedError(
    'ERR_SD_NOTIFY_NO_BINARY',
    `${PACKAGE}: no native binary could be loaded for ${triple} (Node ${process.version}). Tried ${tried}. ${fix} ` +
      `More: docs/platforms.md#when-no-binary-loads (shipped in the package: ${join(ROOT, 'docs', 'platforms.md')}).`,
    { cause: new AggregateError(errors, `every way of loading the ${triple} binary failed`) },
  )
  err.platform = triple
  err.package = pkgName
  throw err
}

/**
 * `loadNative()` at the first use of the binding, not at require() time: `load()` returns the
 * binding, loading it once. Whether a binary is there is checked now (the file, or the platform
 * package resolved without loading it), so require() still throws ERR_SD_NOTIFY_NO_BINARY when
 * there is none; a binary that is there but fails to load throws that error at its first use.
 */
function nativeOnDemand(env = process.env) {
  let native = null
  const load = () => (native ??= loadNative(env))
  if (targetPlatform(env) !== 'linux') return load
  const triple = platformTriple(process.platform, process.arch, env)
  const override = env.SD_NOTIFY_RS_NATIVE_PATH
  const there = (attempt) => {
    try {
      return attempt()
    } catch {
      return false
    }
  }
  const found = override
    ? fs.existsSync(resolve(override))
    : fs.existsSync(join(ROOT, `${PACKAGE}.${triple}.node`)) || there(() => Boolean(require.resolve(`${PACKAGE}-${triple}`)))
  if (!found) load() // throws ERR_SD_NOTIFY_NO_BINARY, naming everything that was tried
  return load
}

module.exports = { loadNative, nativeOnDemand, platformTriple, targetPlatform, isMusl }
