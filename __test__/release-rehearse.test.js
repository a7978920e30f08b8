'use strict'

// The release rehearsal's wiring (the rehearsal itself, `npm run release:rehearse`, publishes to a
// private registry and installs on every platform: minutes, so CI runs it, not this suite).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')
const { allowedFiles, DOCS_ANCHOR, docsAnchor } = require('../scripts/release-rehearse')

const ROOT = path.join(__dirname, '..')
const MAIN = require('../package.json')

test('npm run release:rehearse runs the rehearsal, and CI runs it under step() after the targets lane built every binary', () => {
  assert.equal(MAIN.scripts['release:rehearse'], 'node scripts/release-rehearse.js')
  const lines = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').split('\n')
  const at = (s) => lines.findIndex((l) => l.includes(s))
  assert.match(lines[at('npm run release:rehearse')], /^step "release rehearsal" /)
  assert.ok(at('npm run release:rehearse') > at('lane "targets lane'), 'after the targets lane')
  assert.ok(at('release-rehearse.js --prepare') < at('step "npm test" npm test'), 'its tools are fetched beside npm test')
})

test("what each published tarball may hold: a platform package its binary, package.json and README.md; the main package its entry points and lib/", () => {
  const platform = allowedFiles(`${MAIN.name}-linux-arm64-musl`)
  for (const f of ['package.json', 'README.md', 'sd-notify-rs.linux-arm64-musl.node']) assert.ok(platform.test(f), f)
  for (const f of ['sd-notify-rs.linux-x64-gnu.node', 'index.js', 'src/lib.rs', '.npmrc']) assert.ok(!platform.test(f), f)
  const main = allowedFiles(MAIN.name)
  for (const f of ['package.json', 'index.js', 'index.d.mts', 'lib/loader.js', 'lib/elf.js', 'bin/sd-notify-rs.js', 'docs/platforms.md']) assert.ok(main.test(f), f)
  for (const f of ['src/lib.rs', 'scripts/publish.sh', 'Cargo.toml', 'sd-notify-rs.linux-x64-gnu.node', '__test__/helpers.js', 'docs/other.md']) assert.ok(!main.test(f), f)
})

test('the no-binary error points at a docs section the main package ships', () => {
  assert.equal(DOCS_ANCHOR, 'docs/platforms.md#when-no-binary-loads')
  assert.ok(MAIN.files.includes(DOCS_ANCHOR.split('#')[0]))
  assert.match(fs.readFileSync(path.join(ROOT, 'lib', 'loader.js'), 'utf8'), new RegExp(DOCS_ANCHOR))
})

test('the rehearsal fails when docs/platforms.md lacks the anchor the error points at', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-docs-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'platforms.md')
  assert.match(docsAnchor(file).warning, /not in this checkout/)
  fs.writeFileSync(file, '# Platforms\n\n### When no binary loads: `ERR_SD_NOTIFY_NO_BINARY`\n')
  assert.match(docsAnchor(file).problem, /no such heading or id/)
  fs.writeFileSync(file, '# Platforms\n\n## When no binary loads\n')
  assert.equal(docsAnchor(file), null)
  fs.writeFileSync(file, '# Platforms\n\n<a id="when-no-binary-loads"></a>\n### When no binary loads: `ERR_SD_NOTIFY_NO_BINARY`\n')
  assert.equal(docsAnchor(file), null)
})
