'use strict'
// Keeps the platform packages in step with the main package. For every Rust target in
// package.json's `napi.targets` it writes npm/<platform>/package.json and README.md.
//
// The main package's `optionalDependencies` on those packages exist only in what is published:
// the committed package.json has none, because the packages are not on the registry until the
// release publishes them, and `npm ci` refuses a lock file that cannot hold them. scripts/publish.sh
// has `napi pre-publish` write them (all at the main version) and checks the result with
// `--check --publish`.
//
//   node scripts/sync-platform-packages.js                  write (also run by `npm version`)
//   node scripts/sync-platform-packages.js --check          change nothing; exit 1 if out of date
//   node scripts/sync-platform-packages.js --check --publish  the same, for the package.json napi
//                                                           pre-publish wrote (release only)

const fs = require('node:fs')
const path = require('node:path')
const { GLIBC_FLOOR, target: targetOf } = require('./targets')

const ROOT = path.join(__dirname, '..')
const MAIN_JSON = path.join(ROOT, 'package.json')
// Fields a platform package inherits from the main package (npm provenance checks `repository`).
const INHERITED = ['license', 'engines', 'repository', 'homepage', 'bugs', 'author']

/** Each target of napi.targets (scripts/targets.js): `{ triple, platform, npm, musl, ... }`. */
function targets(main) {
  return main.napi.targets.map(targetOf)
}

/** The `libc` value npm matches against the installing machine. */
const libcOf = (target) => [target.musl ? 'musl' : 'glibc']

/** The package.json of the platform package for `target`. */
function platformPackageJson(main, target) {
  const binary = `${main.napi.binaryName}.${target.platform}.node`
  const pkg = {
    name: `${main.name}-${target.platform}`,
    version: main.version,
    description: `The ${target.triple} binary of ${main.name}`,
    os: ['linux'],
    cpu: [target.npm],
    libc: libcOf(target),
    main: binary,
    files: [binary],
  }
  for (const field of INHERITED) if (main[field] !== undefined) pkg[field] = main[field]
  return pkg
}

function platformReadme(main, target) {
  const floor = GLIBC_FLOOR[target.platform]
  const runsOn = floor
    ? `Linux on ${target.npm} with glibc ${floor} or newer`
    : `Linux on ${target.npm} with musl libc (Alpine)`
  return [
    `# \`${main.name}-${target.platform}\``,
    '',
    `The \`${target.triple}\` binary of [\`${main.name}\`](https://www.npmjs.com/package/${main.name}),`,
    `for ${runsOn}.`,
    '',
    `Do not install it yourself: \`npm install ${main.name}\` installs the one that fits the machine, as an`,
    'optional dependency. No install script runs and nothing is compiled.',
    '',
  ].join('\n')
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`

/**
 * Every file this script owns, with the content it should have: `{ file: content }`. The main
 * package.json has the platform packages as `optionalDependencies` when `publish` is true (the
 * form npm publishes) and no `optionalDependencies` otherwise (the committed form).
 */
function expectedFiles(main = JSON.parse(fs.readFileSync(MAIN_JSON, 'utf8')), { publish = false } = {}) {
  const files = {}
  const optionalDependencies = {}
  for (const target of targets(main)) {
    const pkg = platformPackageJson(main, target)
    const dir = path.join(ROOT, 'npm', target.platform)
    files[path.join(dir, 'package.json')] = json(pkg)
    files[path.join(dir, 'README.md')] = platformReadme(main, target)
    optionalDependencies[pkg.name] = main.version
  }
  const manifest = { ...main, optionalDependencies: publish ? optionalDependencies : undefined }
  files[MAIN_JSON] = json(manifest) // JSON.stringify leaves out the undefined field
  return files
}

if (require.main === module) {
  const check = process.argv.includes('--check')
  const stale = []
  const publish = process.argv.includes('--publish')
  for (const [file, content] of Object.entries(expectedFiles(undefined, { publish }))) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null
    if (current === content) continue
    stale.push(path.relative(ROOT, file))
    if (!check) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
    }
  }
  if (check && stale.length) console.error(`out of date (run node scripts/sync-platform-packages.js): ${stale.join(', ')}`)
  if (!check && stale.length) console.log(`updated: ${stale.join(', ')}`)
  process.exit(check && stale.length ? 1 : 0)
}

module.exports = { expectedFiles, platformPackageJson, libcOf }
