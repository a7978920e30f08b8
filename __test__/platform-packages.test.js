'use strict'

// The platform packages under npm/, their wiring into the main package, the Node versions the
// package declares, and the release workflow that builds, tests and publishes them.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const yaml = require('js-yaml')
const { GLIBC_FLOOR, glibcFloor, compareVersions, target } = require('../scripts/targets')

// These tests check the repository's release tooling, which needs the build tool @napi-rs/cli.
// It is an ES module graph loaded with require(): on a Node.js without require(esm) (before
// 20.17 and 22.12, see its engines) it cannot load, and the tests that need it are skipped,
// saying so. The library itself never loads it.
let parseTriple
let toolingMissing = false
try {
  ;({ parseTriple } = require('@napi-rs/cli'))
} catch (err) {
  if (err.code !== 'ERR_REQUIRE_ESM') throw err
  toolingMissing = `the build tool @napi-rs/cli cannot load on Node.js ${process.version} (no require(esm)): release tooling only`
}
const needsTooling = { skip: toolingMissing }

const ROOT = path.join(__dirname, '..')
const MAIN = require('../package.json')
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))

// The platforms the package ships binaries for, with what npm must match on the installing machine.
const PLATFORMS = {
  'linux-x64-gnu': { cpu: 'x64', libc: 'glibc' },
  'linux-x64-musl': { cpu: 'x64', libc: 'musl' },
  'linux-arm64-gnu': { cpu: 'arm64', libc: 'glibc' },
  'linux-arm64-musl': { cpu: 'arm64', libc: 'musl' },
  'linux-arm-gnueabihf': { cpu: 'arm', libc: 'glibc' },
  'linux-riscv64-gnu': { cpu: 'riscv64', libc: 'glibc' },
  'linux-ppc64-gnu': { cpu: 'ppc64', libc: 'glibc' },
  'linux-s390x-gnu': { cpu: 's390x', libc: 'glibc' },
}

const PUBLISHED = toolingMissing
  ? null
  : JSON.parse(require('../scripts/sync-platform-packages').expectedFiles(MAIN, { publish: true })[path.join(ROOT, 'package.json')])

test('napi.targets, npm/ and the published optionalDependencies name the same eight platforms', needsTooling, () => {
  const fromTargets = MAIN.napi.targets.map((t) => parseTriple(t).platformArchABI).sort()
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort()
  const expected = Object.keys(PLATFORMS).sort()
  assert.deepEqual(fromTargets, expected)
  assert.deepEqual(dirs, expected)
  const names = expected.map((p) => `${MAIN.name}-${p}`)
  assert.deepEqual(Object.keys(PUBLISHED.optionalDependencies).sort(), names)
  // The platform packages are named and matched (cpu) by scripts/targets.js as napi-rs names them.
  for (const t of MAIN.napi.targets) assert.deepEqual([target(t).platform, target(t).npm], [parseTriple(t).platformArchABI, parseTriple(t).arch], t)
})

test('every platform package and published optionalDependency is at the main package version', needsTooling, () => {
  for (const platform of Object.keys(PLATFORMS)) {
    const pkg = readJson(path.join(ROOT, 'npm', platform, 'package.json'))
    assert.equal(pkg.version, MAIN.version, `${pkg.name} is at ${pkg.version}`)
    assert.equal(PUBLISHED.optionalDependencies[pkg.name], MAIN.version, `optionalDependencies.${pkg.name}`)
  }
})

test('npm ci works from the committed files: package.json names no unpublished package and the lock file matches it', () => {
  // The platform packages reach the registry only when released, so the committed package.json
  // must not depend on them: `npm ci` refuses a lock file without entries for its dependencies.
  assert.equal(MAIN.optionalDependencies, undefined)
  const lock = readJson(path.join(ROOT, 'package-lock.json'))
  const root = lock.packages['']
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    assert.deepEqual(root[field], MAIN[field], `package-lock.json's ${field} differ from package.json's: run npm install`)
  }
  for (const name of Object.keys({ ...MAIN.dependencies, ...MAIN.devDependencies })) {
    assert.ok(lock.packages[`node_modules/${name}`], `package-lock.json has no entry for ${name}`)
  }
})

test('scripts/sync-platform-packages.js --check finds nothing out of date', needsTooling, () => {
  const r = cp.spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'sync-platform-packages.js'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
})

test('each platform package installs only where its binary runs: os, cpu, libc, main and files', () => {
  for (const [platform, { cpu, libc }] of Object.entries(PLATFORMS)) {
    const dir = path.join(ROOT, 'npm', platform)
    const pkg = readJson(path.join(dir, 'package.json'))
    const binary = `${MAIN.napi.binaryName}.${platform}.node`
    assert.equal(pkg.name, `${MAIN.name}-${platform}`)
    assert.deepEqual(pkg.os, ['linux'])
    assert.deepEqual(pkg.cpu, [cpu])
    assert.deepEqual(pkg.libc, [libc])
    assert.equal(pkg.main, binary)
    assert.deepEqual(pkg.files, [binary])
    assert.deepEqual(pkg.engines, MAIN.engines)
    assert.equal(pkg.license, MAIN.license)
    assert.equal(pkg.scripts, undefined)
    assert.ok(fs.existsSync(path.join(dir, 'README.md')))
  }
})

test('the binaries themselves are not committed: git ignores npm/*/*.node', () => {
  const r = cp.spawnSync('git', ['check-ignore', '-q', 'npm/linux-x64-gnu/sd-notify-rs.linux-x64-gnu.node'], { cwd: ROOT })
  assert.equal(r.status, 0)
})

// The first Node.js major in which every release has the N-API version (nodejs.org's N-API matrix).
const FIRST_NODE_MAJOR_WITH_NAPI = { 6: 14, 7: 15, 8: 16, 9: 21, 10: 23 }

test("engines.node is within what the Cargo features' N-API version allows, and this Node has it", () => {
  const cargo = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8')
  const napi = Number(/^napi\s*=.*features\s*=\s*\[[^\]]*"napi(\d+)"/m.exec(cargo)?.[1])
  assert.ok(napi, 'Cargo.toml names no napiN feature')
  const floor = Number(/^>=\s*(\d+)/.exec(MAIN.engines.node)?.[1])
  assert.ok(floor >= FIRST_NODE_MAJOR_WITH_NAPI[napi], `engines.node ${MAIN.engines.node} admits Node without N-API ${napi}`)
  assert.ok(Number(process.versions.napi) >= napi)
  assert.ok(Number(process.versions.node.split('.')[0]) >= floor)
})

const glibcRuntime = process.platform === 'linux' ? process.report.getReport().header.glibcVersionRuntime : undefined

test('the glibc floor reader finds what the local build needs, no newer than the glibc it runs on', { skip: !glibcRuntime && 'needs Node on glibc' }, () => {
  const binary = path.join(ROOT, `${MAIN.napi.binaryName}.linux-${process.arch}-gnu.node`)
  if (!fs.existsSync(binary)) return
  const floor = glibcFloor(binary)
  const runtime = glibcRuntime
  assert.match(floor, /^2\.\d+/)
  assert.ok(compareVersions(floor, '2.2.5') >= 0)
  assert.ok(compareVersions(floor, runtime) <= 0, `needs ${floor}, runs on ${runtime}`)
})

const workflow = yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8'))

// The workflow's matrices, as its `targets` job computes them from napi.targets.
const matrices = Object.fromEntries(
  cp
    .execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'targets.js'), '--github-output'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf('=')), JSON.parse(line.slice(line.indexOf('=') + 1))]),
)

test('the release workflow builds every target of napi.targets with npm run build:all, which checks each binary', needsTooling, () => {
  const { build, targets } = workflow.jobs
  assert.ok(targets.steps.some((s) => s.run === 'node scripts/targets.js --github-output >> "$GITHUB_OUTPUT"'))
  assert.equal(build.strategy.matrix.include, '${{ fromJSON(needs.targets.outputs.build) }}')
  const builds = matrices.build
  assert.deepEqual(builds.map((b) => b.target), MAIN.napi.targets)
  for (const b of builds) assert.equal(b.platform, parseTriple(b.target).platformArchABI)
  assert.match(build.container, /bookworm/, 'build:all installs its toolchain from Debian bookworm')
  const runs = build.steps.map((s) => s.run ?? '')
  assert.ok(runs.includes('npm run build:all -- --target ${{ matrix.target }}'), 'the build step is build:all for the matrix target')
  const upload = build.steps.find((s) => String(s.uses).startsWith('actions/upload-artifact'))
  assert.equal(upload.with.path, 'npm/${{ matrix.platform }}/sd-notify-rs.${{ matrix.platform }}.node')
  // build:all links each glibc binary against the floor and fails on a newer one.
  for (const b of builds) if (!b.target.endsWith('-musl')) assert.ok(GLIBC_FLOOR[b.platform], `${b.platform} has no promised glibc floor`)
})

test('the release workflow tests every platform package on its own platform', () => {
  assert.equal(workflow.jobs.test.strategy.matrix.include, '${{ fromJSON(needs.targets.outputs.test) }}')
  const entries = matrices.test
  assert.deepEqual([...new Set(entries.map((e) => e.platform))].sort(), Object.keys(PLATFORMS).sort())
  for (const entry of entries) {
    assert.ok(entry.docker, `${entry.platform} names no docker platform`)
    if (PLATFORMS[entry.platform].libc === 'musl') assert.equal(entry.image, 'alpine')
  }
  // Every platform with official Node.js images is tested on 18, 20 and 22 at least.
  for (const p of Object.keys(PLATFORMS).filter((x) => x !== 'linux-riscv64-gnu')) {
    for (const node of ['18', '20', '22']) assert.ok(entries.some((e) => e.platform === p && e.node === node), `${p} on Node.js ${node}`)
  }
  const runs = workflow.jobs.test.steps.map((s) => s.run ?? '').join('\n')
  assert.ok(runs.includes('scripts/smoke-test-package.js'))
  assert.ok(workflow.jobs.test.steps.some((s) => String(s.uses).startsWith('docker/setup-qemu-action')))
})

test('the release workflow proves the package installs and loads the no-op layer on macOS and Windows', () => {
  const job = workflow.jobs['test-other-os']
  assert.deepEqual(job.strategy.matrix.os.map((os) => os.split('-')[0]).sort(), ['macos', 'windows'])
  const run = job.steps.map((s) => s.run ?? '').join('\n')
  assert.match(run, /npm install --offline --ignore-scripts/)
  assert.match(run, /import \{ ready \} from 'sd-notify-rs'/)
})

test('the release workflow publishes with provenance, only from a tag, after every build and test', () => {
  const { publish } = workflow.jobs
  assert.deepEqual(publish.needs, ['build', 'test', 'test-other-os'])
  assert.equal(publish.permissions['id-token'], 'write')
  assert.match(publish.if, /refs\/tags\/v/)
  // The publishing itself is scripts/publish.sh, which `npm run release:rehearse` runs too.
  const step = publish.steps.find((s) => s.run === 'bash scripts/publish.sh')
  assert.ok(step, 'the publish job runs scripts/publish.sh')
  assert.equal(step.env.NPM_CONFIG_PROVENANCE, 'true', 'every npm publish of it signs with provenance')
  const lines = fs
    .readFileSync(path.join(ROOT, 'scripts', 'publish.sh'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !/^\s*#/.test(l))
  const at = (re) => lines.findIndex((l) => re.test(l))
  // napi pre-publish refuses a platform package without its binary, publishes them and writes
  // them into package.json as optionalDependencies: before the main package is published.
  assert.ok(at(/^npx napi pre-publish .*--no-gh-release/) >= 0)
  assert.ok(at(/sync-platform-packages\.js --check --publish$/) > at(/napi pre-publish/), 'what napi wrote is checked')
  assert.ok(at(/^npm publish$/) > at(/sync-platform-packages\.js --check --publish$/), 'the main package is published last')
  assert.ok(at(/^export npm_config_tag=\$tag npm_config_access=public$/) < at(/napi pre-publish/))
  assert.equal(lines.filter((l) => /\bnpm publish\b/.test(l)).length, 1)
  assert.deepEqual(Object.keys(workflow.on).sort(), ['push', 'workflow_dispatch'])
  assert.deepEqual(workflow.permissions, { contents: 'read' })
})
