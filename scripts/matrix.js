'use strict'
// The runtime matrix: the JavaScript test suite under every Node.js major from 18 to 26 (and the
// oldest version `engines.node` admits), Bun and Deno, each fetched from the npm registry by
// scripts/runtimes.js. Exits 1 when any cell fails; prints a Markdown table of what ran.
//
//   node scripts/matrix.js                 every cell; the e2e suite under the oldest and newest Node.js
//   node scripts/matrix.js --e2e=all       the e2e suite under every Node.js
//   node scripts/matrix.js --only=node     only the Node.js cells (or bun, deno; comma-separated)
//   node scripts/matrix.js --except-host   no cell for the Node.js version running this script
//                                          (CI: `npm test` just ran the whole suite, e2e included, with it)
//
// Each cell gets an explicit list of test files (`node --test <dir>` means different things
// across Node.js versions). Node.js cells put their node first on PATH and run the e2e services
// with it (SD_NOTIFY_RS_E2E_NODE). Bun runs the files with `bun test`, Deno with `deno test`
// (both implement node:test); the e2e suite's services are Node.js programs, so it is left out
// there: services run by Bun and Deno under a real systemd are __test__/e2e/runtimes.test.js,
// which the host's `npm test` runs. Logs go to .cache/matrix/<cell>.log.

const fs = require('node:fs')
const path = require('node:path')
const { runtimeSpecs, fetchRuntime, enginesFloor } = require('./runtimes')
const { cleanEnv, parseArgs, spawnCollect, tapTotals, table: render } = require('./common')

const ROOT = path.join(__dirname, '..')
const LOGS = path.join(ROOT, '.cache', 'matrix')

// The docs' code blocks (__test__/snippets.test.js) are proven by `npm test` only: the file checks
// the docs rather than the runtime, and boots a private systemd (~25 s a cell).
const NPM_TEST_ONLY = new Set(['snippets.test.js'])

const testFiles = (dir) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.test.js') && !NPM_TEST_ONLY.has(f))
    .sort()
    .map((f) => `./${dir}/${f}`)

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex
const count = (text, re) => Number(re.exec(text)?.[1] ?? 0)

/** How to run each kind of runtime, and how to read its totals from the output. */
const RUNNERS = {
  node: {
    args: (files) => ['--test', '--test-reporter=tap', ...files],
    totals: tapTotals,
  },
  bun: {
    args: (files) => ['test', '--timeout', '120000', ...files],
    totals: (out) => ({
      pass: count(out, /^\s*(\d+) pass$/m),
      fail: count(out, /^\s*(\d+) fail$/m),
      skip: count(out, /^\s*(\d+) skip$/m) + count(out, /^\s*(\d+) todo$/m),
      found: /^Ran \d+ tests? across/m.test(out),
    }),
  },
  deno: {
    args: (files) => ['test', '-A', '--unstable-detect-cjs', '--no-check', ...files],
    totals: (out) => ({
      pass: count(out, /\| (\d+) passed/),
      fail: count(out, /\| (\d+) failed/),
      skip: count(out, /\| (\d+) ignored/),
      found: /^(ok|FAILED) \| \d+ passed/m.test(out),
    }),
  },
}

/** The cells to run: `{ runtime, label, files, e2e }`. */
function plan({ only, e2eEverywhere, exceptHost }, log) {
  const kinds = only ? new Set(only.split(',')) : null
  const wanted = runtimeSpecs().filter((r) => !kinds || kinds.has(r.kind))
  // The engines floor is its own cell unless it is the newest release of its major anyway.
  const majors = wanted.filter((r) => !r.floor).map((r) => fetchRuntime(r, log))
  const floorSpec = wanted.find((r) => r.floor)
  const runtimes = [...majors]
  if (floorSpec && !majors.some((r) => r.kind === 'node' && r.version === enginesFloor())) {
    runtimes.unshift(fetchRuntime(floorSpec, log))
  }
  const nodes = runtimes.filter((r) => r.kind === 'node')
  const ends = new Set([nodes[0], nodes[nodes.length - 1]])
  if (exceptHost) {
    const host = runtimes.findIndex((r) => r.kind === 'node' && r.version === process.versions.node)
    if (host >= 0) {
      log(`Node.js ${process.versions.node}: no cell (--except-host): the suite already ran under it`)
      runtimes.splice(host, 1)
    }
  }
  const unit = testFiles('__test__')
  const e2e = testFiles('__test__/e2e')
  return runtimes.map((runtime) => {
    const withE2e = runtime.kind === 'node' && (e2eEverywhere || ends.has(runtime))
    return {
      runtime,
      label: `${runtime.kind === 'node' ? 'Node.js' : runtime.kind === 'bun' ? 'Bun' : 'Deno'} ${runtime.version}`,
      files: withE2e ? [...unit, ...e2e] : unit,
      e2e: withE2e,
    }
  })
}

/** Runs one cell; resolves `{ ...cell, pass, fail, skip, ok, seconds, log }`. */
async function runCell(cell) {
  const { runtime } = cell
  const env = cleanEnv({ NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' })
  if (runtime.kind === 'node') {
    env.PATH = `${path.dirname(runtime.exe)}${path.delimiter}${env.PATH}`
    env.SD_NOTIFY_RS_E2E_NODE = runtime.exe
  }
  delete env.NODE_TEST_CONTEXT
  fs.mkdirSync(LOGS, { recursive: true })
  const log = path.join(LOGS, `${cell.label.replace(/\W+/g, '-')}.log`)
  const out = fs.openSync(log, 'w')
  const r = await spawnCollect(runtime.exe, RUNNERS[runtime.kind].args(cell.files), { cwd: ROOT, env, stdio: ['ignore', out, out] })
  fs.closeSync(out)
  const { pass, fail, skip, found } = RUNNERS[runtime.kind].totals(stripAnsi(fs.readFileSync(log, 'utf8')))
  const ok = r.status === 0 && found && fail === 0 && pass > 0
  return { ...cell, pass, fail, skip, found, code: r.code, signal: r.signal, ok, seconds: Math.round(r.seconds), log }
}

/** The Markdown table of a run. */
function table(results) {
  const head = ['runtime', 'what ran', 'pass', 'fail', 'skip', 'duration', 'result']
  const what = (r) => `${r.e2e ? 'unit + e2e' : 'unit'} (${r.files.length} files)`
  return render(head, results.map((r) => [r.label, what(r), r.pass, r.fail, r.skip, `${r.seconds} s`, r.ok ? 'ok' : '**FAILED**']))
}

async function main(argv) {
  const started = Date.now()
  const { only, e2e, exceptHost } = parseArgs(argv, { only: 'value', e2e: 'value', 'except-host': 'flag' })
  const cells = plan({ only, e2eEverywhere: e2e === 'all', exceptHost }, (m) => console.log(`matrix: ${m}`))
  const results = []
  for (const cell of cells) {
    console.log(`matrix: ${cell.label}: ${cell.files.length} test files${cell.e2e ? ' (with e2e)' : ''}`)
    const r = await runCell(cell)
    results.push(r)
    console.log(`matrix: ${r.label}: ${r.ok ? 'ok' : 'FAILED'}: ${r.pass} pass, ${r.fail} fail, ${r.skip} skip in ${r.seconds} s (${path.relative(ROOT, r.log)})`)
    if (!r.ok) {
      const lines = stripAnsi(fs.readFileSync(r.log, 'utf8')).split('\n')
      const failed = lines.filter((l) => /^not ok |^\(fail\) |^\S.* => \.\/.*:\d+:\d+$/.test(l))
      console.log((failed.length ? failed : lines.slice(-30)).map((l) => `  ${l}`).join('\n'))
    }
  }
  const summary = `${table(results)}\n\nTotal: ${Math.round((Date.now() - started) / 1000)} s.\n`
  fs.writeFileSync(path.join(LOGS, 'summary.md'), summary)
  console.log(`\n${summary}`)
  return results.every((r) => r.ok) ? 0 : 1
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err)
      process.exitCode = 1
    },
  )
}

module.exports = { plan, RUNNERS, table, runCell }
