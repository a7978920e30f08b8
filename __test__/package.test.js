'use strict'

// The package as a newcomer gets it: `npm pack` of the main package and of the linux-x64-gnu
// platform package, installed from those tarballs into a fresh project under os.tmpdir() with
// no registry, no compiler, no Rust, no Python and no node-gyp on PATH; then used from CommonJS,
// ESM and TypeScript. Needs the local build (`npm run build`), which `npm test` makes first.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const smoke = require('../scripts/smoke-test-package')
const { allowedFiles, DOCS_ANCHOR } = require('../scripts/release-rehearse')
const { platformTriple } = require('../lib/loader')
const { runtimeGap } = require('./helpers')

const ROOT = path.join(__dirname, '..')
const MAIN = require('../package.json')
const PLATFORM = platformTriple()
// The local build (npm run build), or else the one npm run build:all left in npm/<platform>/.
const BINARY = [
  path.join(ROOT, `${MAIN.napi.binaryName}.${PLATFORM}.node`),
  path.join(ROOT, 'npm', PLATFORM, `${MAIN.napi.binaryName}.${PLATFORM}.node`),
].find((file) => fs.existsSync(file)) ?? path.join(ROOT, `${MAIN.napi.binaryName}.${PLATFORM}.node`)
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare']

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))

describe('the packed package, installed from its tarballs', () => {
  let work
  let tools
  let main
  let native
  let project
  let dependencies

  before(() => {
    assert.ok(fs.existsSync(BINARY), `${BINARY} is missing: run \`npm run build\` (or \`npm run build:all\`) first`)
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-package-'))
    tools = smoke.isolatedToolDir(work)
    main = smoke.packMain(work)
    native = smoke.packPlatform(PLATFORM, BINARY, work)
    project = path.join(work, 'consumer')
    dependencies = smoke.packDependencies(work)
    smoke.installConsumer(project, [main.tarball, native.tarball, ...dependencies.map((d) => d.tarball)], tools)
  })
  after(() => fs.rmSync(work, { recursive: true, force: true }))

  test('each tarball unpacks to less than 1 MB (sizes printed)', (t) => {
    for (const p of [main, native]) {
      t.diagnostic(`${path.basename(p.tarball)}: ${p.size} bytes packed, ${p.unpackedSize} bytes unpacked`)
      assert.ok(p.unpackedSize < smoke.ONE_MB, `${p.name}: ${p.unpackedSize} bytes unpacked`)
    }
  })

  test('the main tarball holds the entry points, their types, lib/, integrations/ and the command: no Rust sources, build output or binary', () => {
    // The release rehearsal checks the published tarballs against the same list.
    const allowed = allowedFiles(MAIN.name)
    assert.deepEqual(main.files.filter((f) => !allowed.test(f)), [])
    for (const entry of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'lib/loader.js', 'lib/noop.js']) {
      assert.ok(main.files.includes(entry), `${entry} is not packed`)
    }
  })

  test('every file the exports map, main and types name is in the main tarball', () => {
    const targets = [MAIN.main, MAIN.types]
    const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk))
    walk(MAIN.exports)
    for (const target of targets) assert.ok(main.files.includes(path.normalize(target)), `${target} is not packed`)
  })

  test('the platform tarball holds only package.json, README.md and the binary', () => {
    assert.deepEqual(native.files, ['README.md', 'package.json', `${MAIN.napi.binaryName}.${PLATFORM}.node`].sort())
  })

  test('neither package has an install script or a binding.gyp, so npm never runs node-gyp', () => {
    for (const name of [MAIN.name, native.name]) {
      const dir = path.join(project, 'node_modules', name)
      const scripts = readJson(path.join(dir, 'package.json')).scripts ?? {}
      assert.deepEqual(INSTALL_SCRIPTS.filter((s) => s in scripts), [], `${name} has install scripts`)
      assert.equal(fs.existsSync(path.join(dir, 'binding.gyp')), false, `${name} ships a binding.gyp`)
    }
  })

  test('the install used no compiler, Rust, Python or node-gyp, and installed exactly the two packages and their dependencies', () => {
    assert.equal(fs.readFileSync(tools.log, 'utf8'), '')
    const installed = fs.readdirSync(path.join(project, 'node_modules')).filter((n) => !n.startsWith('.')).sort()
    assert.deepEqual(installed, [MAIN.name, native.name, ...dependencies.map((d) => d.name)].sort())
    assert.equal(readJson(path.join(project, 'node_modules', native.name, 'package.json')).version, MAIN.version)
  })

  test("require('sd-notify-rs').ready() sends READY=1 through the platform package's binary", async () => {
    const { message, pid, printed } = await smoke.notifyFromConsumer(project, 'consumer.cjs', smoke.CJS_CONSUMER, tools)
    assert.equal(printed.sent, true)
    assert.equal(message.fields.READY, '1')
    assert.equal(message.fields.STATUS, 'cjs consumer')
    assert.equal(message.pid, pid)
    assert.equal(printed.binary, path.join(project, 'node_modules', native.name, `${MAIN.napi.binaryName}.${PLATFORM}.node`))
  })

  test("import { ready } from 'sd-notify-rs' (and the default import) sends READY=1", async () => {
    const { message, pid, printed } = await smoke.notifyFromConsumer(project, 'consumer.mjs', smoke.ESM_CONSUMER, tools)
    assert.equal(printed.sent, true)
    assert.deepEqual(message.fields, { READY: '1', STATUS: 'esm consumer' })
    assert.equal(message.pid, pid)
  })

  test('the ESM entry exports every name the CommonJS entry does, as the same values', runtimeGap({ deno: 'import() from CommonJS code loads the CommonJS entry, not the import condition (index.mjs); ESM modules get index.mjs' }), async () => {
    const script = [
      "const cjs = require('sd-notify-rs')",
      "import('sd-notify-rs').then((esm) => console.log(JSON.stringify({",
      '  cjs: Object.keys(cjs).sort(),',
      "  esm: Object.keys(esm).filter((k) => k !== 'default').sort(),",
      '  same: Object.keys(cjs).every((k) => esm[k] === cjs[k]) && esm.default === cjs,',
      '})))',
    ].join('\n')
    const out = cp.execFileSync(path.join(tools.bin, 'node'), ['-e', script], { cwd: project, env: smoke.cleanEnv({ PATH: tools.PATH }), encoding: 'utf8' })
    const { cjs, esm, same } = JSON.parse(out)
    assert.deepEqual(esm, cjs, 'index.mjs must re-export every name index.js exports')
    assert.equal(same, true)
  })

  test('__test__/types/consumer.ts compiles with tsc --strict against the installed package, as CommonJS, as ESM and with bundler resolution', () => {
    fs.copyFileSync(path.join(__dirname, 'types', 'consumer.ts'), path.join(project, 'consumer.ts'))
    fs.copyFileSync(path.join(__dirname, 'types', 'consumer.ts'), path.join(project, 'consumer.mts'))
    fs.copyFileSync(path.join(__dirname, 'types', 'compat-consumer.ts'), path.join(project, 'compat-consumer.ts'))
    fs.writeFileSync(
      path.join(project, 'esm-default.mts'),
      "import sdNotify, { ready } from 'sd-notify-rs'\nconst same: boolean = sdNotify.ready === ready\nexport { same }\n",
    )
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files: ['consumer.ts', 'consumer.mts', 'esm-default.mts', 'compat-consumer.ts'],
    }
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const r = cp.spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--traceResolution'], { cwd: project, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.includes('error')).join('\n'))
    // Each module kind found its own declarations through the exports map.
    const resolved = [...r.stdout.matchAll(/Module name 'sd-notify-rs' was successfully resolved to '([^']+)'/g)].map((m) => path.basename(m[1]))
    assert.deepEqual([...new Set(resolved)].sort(), ['index.d.mts', 'index.d.ts'])
    for (const entry of ['compat', 'pino']) {
      assert.match(r.stdout, new RegExp(`Module name 'sd-notify-rs/${entry}' was successfully resolved to '[^']+integrations/${entry}\\.d\\.ts'`))
    }

    // Bundler resolution (Vite, esbuild, webpack users) takes the `import` condition.
    const bundler = { ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, module: 'preserve', moduleResolution: 'bundler' }, files: ['consumer.ts'] }
    fs.writeFileSync(path.join(project, 'tsconfig.bundler.json'), JSON.stringify(bundler, null, 2))
    const b = cp.spawnSync(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], { cwd: project, encoding: 'utf8' })
    assert.equal(b.status, 0, b.stdout)
  })

  test('without the platform package (--omit=optional), require() throws ERR_SD_NOTIFY_NO_BINARY naming the package to install', () => {
    const bare = path.join(work, 'no-optional')
    fs.mkdirSync(bare)
    fs.writeFileSync(path.join(bare, 'package.json'), '{"name":"bare","version":"1.0.0","private":true}')
    const npmCli = fs.realpathSync(path.join(tools.bin, 'npm'))
    cp.execFileSync(
      path.join(tools.bin, 'node'),
      [npmCli, 'install', '--offline', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund', '--cache', path.join(bare, '.cache'), main.tarball, ...dependencies.map((d) => d.tarball)],
      { cwd: bare, env: smoke.cleanEnv({ PATH: tools.PATH }), stdio: 'pipe' },
    )
    const script = [
      'try { require("sd-notify-rs"); console.log("{}") } catch (e) {',
      '  console.log(JSON.stringify({ code: e.code, message: e.message, causes: e.cause.errors.map((c) => c.code) }))',
      '}',
    ].join('\n')
    const out = cp.execFileSync(path.join(tools.bin, 'node'), ['-e', script], { cwd: bare, env: smoke.cleanEnv({ PATH: tools.PATH }), encoding: 'utf8' })
    const err = JSON.parse(out)
    assert.equal(err.code, 'ERR_SD_NOTIFY_NO_BINARY')
    assert.match(err.message, new RegExp(`for ${PLATFORM} `))
    assert.match(err.message, new RegExp(`npm install ${MAIN.name}-${PLATFORM}@${MAIN.version.replace(/\./g, '\\.')}`))
    assert.match(err.message, /--omit=optional/)
    assert.ok(err.message.includes(DOCS_ANCHOR), `the message points at ${DOCS_ANCHOR}`)
    assert.deepEqual(err.causes, ['MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'])
  })
})
