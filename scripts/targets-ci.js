'use strict'
// The target matrix as one pipeline, for CI's 30 minutes on two cores: `npm run build:all` and
// `npm run test:targets` in one, each platform's tests starting as soon as its binary is built
// and checked, instead of after the last build.
//
//   node scripts/targets-ci.js [--jobs <n>] [--later <platform>]... [--untested <platform>]...
//                              [--markdown <file>]
//
// 1. One apt run installs the toolchain (scripts/build-all.js) and the foreign libc6/libstdc++6
//    the foreign Node.js builds need (scripts/target-nodes.js); zig comes from PyPI.
// 2. Every target is built and checked as build:all does (same profile, same flags), in <n> lanes
//    (default 2). Beside the builds, a child process fetches the Node.js of every platform (npm
//    registry, PyPI, trixie's QEMU and musl): downloads overlap compiling.
// 3. A built platform's JavaScript tests (scripts/matrix-targets.js: QEMU, musl Node) run in the
//    same <n> slots as the builds, ahead of builds still waiting.
// --later names platforms built and checked here but tested afterwards by the caller with
// `npm run test:targets -- --platform <p>`: linux-x64-gnu, whose test moves the local build
// (npm run build) aside, which tests running beside this pipeline would miss. --untested names
// platforms only built and checked here, their cell marked so in the table: CI's 30 minutes on two
// cores do not hold every QEMU cell beside everything else (MATRIX.md has the numbers).
//
// Prints build-all's table and test:targets' table; exits 1 when any build, check or cell fails.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { target, releaseTargets, checkBinary } = require('./targets')
const { installToolchain, build, buildTable } = require('./build-all')
const { runLogged, report } = require('./matrix-targets')
const nodes = require('./target-nodes')

const stamp = () => new Date().toISOString().slice(11, 19)
const say = (msg) => console.log(`targets-ci ${stamp()}: ${msg}`)

/** `jobs` slots handed out lowest priority number first, then first come first served. */
function slots(jobs) {
  const free = Array.from({ length: jobs }, (_, n) => n)
  const waiting = []
  const pump = () => {
    while (free.length && waiting.length) waiting.shift().resolve(free.shift())
  }
  return {
    acquire: (priority) =>
      new Promise((resolve) => {
        const at = waiting.findIndex((w) => w.priority > priority)
        waiting.splice(at < 0 ? waiting.length : at, 0, { priority, resolve })
        pump()
      }),
    release: (slot) => {
      free.push(slot)
      pump()
    },
  }
}

/** Runs scripts/target-nodes.js for `platforms` in a child; resolves with its exit status. */
function prepareNodes(platforms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'target-nodes.js'), ...platforms], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', () => resolve(1))
    child.on('close', (code) => resolve(code ?? 1))
  })
}

/** CPU seconds (user + system) of the child processes waited for so far: /proc/self/stat's cutime, cstime. */
function childCpu() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return Math.round((Number(fields[13]) + Number(fields[14])) / 100)
}

function parseArgs(argv) {
  const opts = { jobs: 2, later: [], untested: [], markdown: undefined }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--jobs') opts.jobs = Number(argv[++i])
    else if (argv[i] === '--later') opts.later.push(argv[++i])
    else if (argv[i] === '--untested') opts.untested.push(argv[++i])
    else if (argv[i] === '--markdown') opts.markdown = argv[++i]
    else throw new Error(`unknown argument ${argv[i]}: use --jobs <n>, --later <platform>, --untested <platform>, --markdown <file>`)
  }
  if (!(Number.isInteger(opts.jobs) && opts.jobs >= 1)) throw new Error('--jobs needs a whole number >= 1')
  return opts
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  // Built in napi.targets' order, but those with no Node.js to test on (riscv64) last: the
  // other platforms' tests then run beside its build instead of after it.
  const targets = releaseTargets()
    .map(target)
    .sort((a, b) => Boolean(nodes.NODES[b.platform]) - Boolean(nodes.NODES[a.platform]))
  for (const p of [...opts.later, ...opts.untested]) {
    if (!targets.some((t) => t.platform === p)) throw new Error(`${p}: not a platform of napi.targets`)
  }
  say('installing the toolchain and the foreign libraries')
  const version = installToolchain(targets, nodes.hostPackages())
  const tested = targets.filter((t) => nodes.NODES[t.platform] && !opts.later.includes(t.platform) && !opts.untested.includes(t.platform))
  say(`building ${targets.length} targets with ${version}, ${opts.jobs} at a time; fetching the Node.js of ${tested.length} platforms`)
  const prepared = prepareNodes(tested.map((t) => t.platform))
  const pool = slots(opts.jobs)
  const rows = targets.map((t) => ({ target: t.triple, seconds: '-', problems: [] }))
  const cells = []
  await Promise.all(
    targets.map(async (t, i) => {
      const row = rows[i]
      const slot = await pool.acquire(1)
      const begun = Date.now()
      say(`${t.platform}: building (lane ${slot})`)
      try {
        await build(t, slot, `[${t.platform}]`)
        row.seconds = ((Date.now() - begun) / 1000).toFixed(0)
        Object.assign(row, checkBinary(t))
      } catch (err) {
        row.problems.push(err.message)
      } finally {
        pool.release(slot)
      }
      say(`${t.platform}: ${row.problems.length ? `build FAILED: ${row.problems.join('; ')}` : `built and checked in ${row.seconds} s`}`)
      if (!tested.includes(t)) return
      if (row.problems.length) {
        cells.push({ platform: t.platform, node: '-', seconds: 0, result: 'FAIL: not built', failed: true })
        return
      }
      const ready = await prepared
      const testSlot = await pool.acquire(0)
      try {
        if (ready !== 0) cells.push({ platform: t.platform, node: '-', seconds: 0, result: 'FAIL: its Node.js could not be fetched', failed: true })
        else cells.push(await runLogged(t))
      } finally {
        pool.release(testSlot)
      }
      say(`${t.platform}: tested`)
    }),
  )
  console.log(`\n${buildTable(rows)}`)
  const failedBuilds = rows.filter((r) => r.problems.length).length
  console.log(failedBuilds ? `\n${failedBuilds} of ${rows.length} target(s) failed` : `\nall ${rows.length} target(s) built and checked`)
  // In napi.targets' order, as test:targets prints them; platforms without a Node.js say so.
  const order = releaseTargets().map((triple) => target(triple).platform)
  for (const t of targets) {
    if (!nodes.NODES[t.platform]) cells.push({ platform: t.platform, node: '-', seconds: 0, result: 'built and checked only: no Node.js for this platform' })
    else if (opts.untested.includes(t.platform)) {
      const result = `built and checked only (--untested): its tests are \`npm run test:targets -- --platform ${t.platform}\``
      cells.push({ platform: t.platform, node: '-', seconds: 0, result })
    }
  }
  cells.sort((a, b) => order.indexOf(a.platform) - order.indexOf(b.platform))
  const testStatus = report(cells, started, opts.markdown)
  say(`done in ${((Date.now() - started) / 60000).toFixed(1)} min, ${childCpu()} s of CPU in its child processes`)
  return failedBuilds || testStatus ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`targets-ci: ${err.message}`)
    process.exit(1)
  },
)
