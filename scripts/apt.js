'use strict'
// Debian packages installed on first use: the cross toolchain (build-all.js), the foreign libcs
// (target-nodes.js) and debootstrap (testbed/roots.js). CI starts them side by side on a fresh
// machine, where `apt-get update` holds /var/lib/apt/lists/lock and a second apt-get fails at once
// (DPkg::Lock::Timeout waits for dpkg's own lock only): every apt run here takes one flock(1) lock
// first, and a run that still meets a lock (someone else's apt) is tried again.

const { spawnSync } = require('node:child_process')
const { run } = require('./common')

const LOCK = '/run/lock/sd-notify-rs-apt.lock'
const installed = (pkg) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed')

function apt(args) {
  const opts = { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('flock', ['-w', '1800', LOCK, 'apt-get', '-o', 'DPkg::Lock::Timeout=600', ...args], opts)
    if (r.error) throw new Error(`flock could not be started: ${r.error.message}`)
    const out = `${r.stdout}${r.stderr}`
    if (r.status === 0 || attempt === 5 || !/Could not get lock|Unable to lock/.test(out)) return { status: r.status, out }
    spawnSync('sleep', [String(10 * attempt)])
  }
}

/** Installs what of `packages` is missing (after `dpkg --add-architecture` for each of `archs`). */
function aptInstall(packages, archs = [], log = console.log) {
  const missing = [...new Set(packages)].filter((p) => !installed(p))
  if (!missing.length) return
  log(`installing ${missing.join(' ')} with apt-get`)
  for (const arch of archs) run('dpkg', ['--add-architecture', arch])
  // A fresh machine has no package lists, and a mirror that fails one foreign index makes update
  // exit non-zero: the install says whether what is needed was found.
  const update = apt(['update', '-qq'])
  if (update.status !== 0) log(`apt-get update reported errors (the install decides):\n${update.out.trim()}`)
  const r = apt(['install', '-y', '-qq', '--no-install-recommends', ...missing])
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed (${r.status}):\n${r.out.trim().split('\n').slice(-30).join('\n')}`)
}

module.exports = { aptInstall, installed }
