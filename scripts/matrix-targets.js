'use strict'
// Runs the JavaScript suite (__test__/*.test.js, not the e2e suite, which needs a private systemd)
// against each foreign or musl binary that `npm run build:all` left in npm/<platform>/, on a Node.js
// of that platform: QEMU user mode (binfmt_misc) for the foreign architectures, a musl Node for the
// musl binaries. The binary is found the way an installed package finds it: the loader detects the
// platform and requires `sd-notify-rs-<platform>`, linked into node_modules as npm would install it.
//
//   node scripts/matrix-targets.js [--platform <platform>]... [--files <a,b>] [--markdown <file>]
//   node scripts/matrix-targets.js --build [--jobs <n>] [--later <platform>]... [--untested <platform>]...
//                                  [--markdown <file>]
//
// Prints a table and exits 1 when any cell fails. --markdown writes the table into <file> between
// the markers <!-- targets:begin --> and <!-- targets:end --> (appended when they are missing).
//
// --build is the target matrix as one pipeline, for CI's 30 minutes on two cores: `npm run
// build:all` and the cells in one, each platform's tests starting as soon as its binary is built:
// 1. One apt run installs the toolchain (scripts/build-all.js) and the foreign libc6/libstdc++6
//    the foreign Node.js builds need (scripts/target-nodes.js); zig comes from PyPI.
// 2. Every target is built and checked as build:all does (same profile, same flags), in <n> lanes
//    (default 2). Beside the builds, a child process fetches the Node.js of every platform (npm
//    registry, PyPI, trixie's QEMU and musl): downloads overlap compiling.
// 3. A lane that built a platform runs its cell (QEMU, musl Node) before its next build.
// --later names platforms built and checked here but tested afterwards by the caller with
// `npm run test:targets -- --platform <p>`: linux-x64-gnu, whose test moves the local build
// (npm run build) aside, which tests running beside this pipeline would miss. --untested names
// platforms only built and checked here, their cell marked so in the table: CI's 30 minutes on two
// cores do not hold every QEMU cell beside everything else (MATRIX.md has the numbers). Prints
// build-all's table too; exits 1 when any build, check or cell fails.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { target, binaryPath, releaseTargets, checkBinary } = require('./targets')
const { installToolchain, build, buildTable } = require('./build-all')
const { parseArgs, spawnCollect, inLanes, nodeTest, table } = require('./common')
const nodes = require('./target-nodes')

const ROOT = path.join(__dirname, '..')
const CELL_TIMEOUT_MS = 15 * 60 * 1000
const say = (msg) => console.log(`targets ${new Date().toISOString().slice(11, 19)}: ${msg}`)

// Under QEMU the whole suite takes many minutes a platform (each cell's time is in the table
// `npm run test:targets` prints): there, the files that exercise the binary (the protocols,
// descriptor passing, the journal's byte order, errors, loading). Left out: the watchdog's and
// lifecycle's timing tests, socket activation's environment parsing, the logging integrations, the
// package metadata checks, and the packed-package test (npm pack and install under emulation, the
// slowest of all), all JavaScript that runs the same on every architecture.
const EMULATED_FILES = ['notify', 'journal', 'listener', 'listen', 'fd-store', 'errors', 'exports', 'refused', 'loader']

/** The test files of the unit and package suite (never the e2e directory); under QEMU, a subset. */
function suiteFiles(emulated) {
  // (The docs' code blocks, __test__/snippets.test.js, are proven by `npm test` only: the file
  // checks the docs rather than the platform, and boots a private systemd, ~25 s a cell.)
  const all = fs.readdirSync(path.join(ROOT, '__test__')).filter((f) => f.endsWith('.test.js') && f !== 'snippets.test.js')
  const chosen = emulated ? all.filter((f) => EMULATED_FILES.includes(f.replace(/\.test\.js$/, ''))) : all
  return chosen.map((f) => path.join('__test__', f))
}

/**
 * Links node_modules/sd-notify-rs-<platform> to npm/<platform>, as installing the package would,
 * and moves aside a local build of the same platform (npm run build), which the loader tries first.
 * Returns the undo.
 */
function linkPlatformPackage(t) {
  const link = path.join(ROOT, 'node_modules', `sd-notify-rs-${t.platform}`)
  fs.rmSync(link, { recursive: true, force: true })
  fs.symlinkSync(path.join('..', 'npm', t.platform), link)
  const local = path.join(ROOT, `sd-notify-rs.${t.platform}.node`)
  const aside = `${local}.aside`
  if (fs.existsSync(local)) fs.renameSync(local, aside)
  return () => {
    fs.rmSync(link, { force: true })
    if (fs.existsSync(aside)) fs.renameSync(aside, local)
  }
}

/** A cell that did not run its tests: `result` says why (`failed` unless it is only a remark). */
const noRun = (platform, result, failed = true) => ({ platform, node: '-', seconds: 0, result, failed })

async function runCell(t, only) {
  const how = nodes.NODES[t.platform]
  if (!how) return noRun(t.platform, 'built and checked only: no Node.js for this platform', false)
  if (!fs.existsSync(binaryPath(t))) return noRun(t.platform, `FAIL: ${path.relative(ROOT, binaryPath(t))} is missing: run npm run build:all`)
  let node
  try {
    node = nodes.prepare(t)
  } catch (err) {
    return noRun(t.platform, `FAIL: no Node.js to run: ${err.message}`)
  }
  const cell = { platform: t.platform, where: how.where, seconds: 0 }
  const version = spawnSync(node, ['-p', 'process.version + " " + process.arch'], { encoding: 'utf8', timeout: 120000 })
  cell.node = version.stdout?.trim() || `does not start: ${(version.stderr || version.error?.message || '').trim().split('\n')[0]}`
  // The loader must pick this platform on its own: no override of the path or the platform.
  const env = { ...process.env }
  delete env.SD_NOTIFY_RS_NATIVE_PATH
  delete env.SD_NOTIFY_RS_PLATFORM
  const unlink = linkPlatformPackage(t)
  try {
    const picked = spawnSync(node, ['-p', 'require("./lib/loader").platformTriple()'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120000 })
    if (picked.stdout?.trim() !== t.platform) {
      return { ...cell, result: `FAIL: the loader picks ${picked.stdout?.trim() || picked.stderr.trim()}, not ${t.platform}`, failed: true }
    }
    const files = (only ?? suiteFiles(Boolean(how.qemu))).filter((f) => !how.skip?.includes(path.basename(f)))
    cell.files = (how.qemu ? 'binary subset' : 'all') + (how.skip ? ` but ${how.skip.join(', ')}` : '')
    const r = await nodeTest(node, files, { cwd: ROOT, env, timeout: CELL_TIMEOUT_MS })
    if (how.qemu && !fs.existsSync(nodes.binfmtEntry(how.qemu))) {
      return { ...cell, result: `FAIL: ${nodes.binfmtEntry(how.qemu)} vanished during the run (an apt trigger?): run again`, failed: true }
    }
    cell.seconds = r.seconds
    cell.counts = `${r.pass}/${r.tests} passed, ${r.fail} failed, ${r.skip} skipped`
    cell.result = r.ok ? 'ok' : `FAIL (exit ${r.status}): ${r.failed.slice(0, 5).join('; ') || r.out.slice(-400)}`
    cell.failed = !r.ok
    if (!r.ok) fs.writeFileSync(path.join(nodes.CACHE, `matrix-${t.platform}.log`), r.out)
    return cell
  } finally {
    unlink()
  }
}

/** runCell with a line before and after. */
async function runLogged(t, only) {
  console.log(`${t.platform}: running`)
  const cell = await runCell(t, only)
  console.log(`${t.platform}: ${cell.counts ?? ''} ${cell.result}`)
  return cell
}

function writeMarkdown(file, text) {
  const [begin, end] = ['<!-- targets:begin -->', '<!-- targets:end -->']
  const block = `${begin}\n${text}\n${end}`
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const at = old.indexOf(begin)
  const next = at >= 0 ? old.slice(0, at) + block + old.slice(old.indexOf(end) + end.length) : `${old}${old ? '\n' : ''}## Targets\n\n${block}\n`
  fs.writeFileSync(file, next)
}

/** Prints the table of `cells` (and writes it into `markdown`); returns the exit status. */
function report(cells, started, markdown) {
  const head = ['platform', 'Node.js (where)', 'files', 'tests', 'time', 'result']
  const rows = cells.map((c) => {
    const node = c.node === '-' ? '-' : `${c.node} (${c.where})`
    return [c.platform, node, c.files ?? '-', c.counts ?? '-', c.seconds ? `${c.seconds.toFixed(0)} s` : '-', c.result]
  })
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  const subset = EMULATED_FILES.map((f) => `${f}.test.js`).join(', ')
  const text = `${table(head, rows)}\n\n"binary subset" (QEMU): ${subset}.\n\nRun ${new Date().toISOString().slice(0, 16)}Z in ${minutes} min (${nodes.describeHost()}).`
  console.log(`\n${text}`)
  if (markdown) writeMarkdown(path.resolve(markdown), text)
  const failed = cells.filter((c) => c.failed).length
  if (failed) console.log(`\n${failed} cell(s) failed; logs in ${path.relative(ROOT, nodes.CACHE)}/matrix-<platform>.log`)
  return failed ? 1 : 0
}

/** CPU seconds (user + system) of the child processes waited for so far: /proc/self/stat's cutime, cstime. */
function childCpu() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return Math.round((Number(fields[13]) + Number(fields[14])) / 100)
}

/** --build: every target built and checked, and each cell run as soon as its binary is there. */
async function buildAndTest(opts, started) {
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
  const prepared = spawnCollect(process.execPath, [path.join(__dirname, 'target-nodes.js'), ...tested.map((t) => t.platform)], { stdio: ['ignore', 'inherit', 'inherit'] })
  const rows = targets.map((t) => ({ target: t.triple, seconds: '-', problems: [] }))
  const cells = []
  // A lane builds a target, then runs its cell (once the Node.js are fetched), then takes the next.
  await inLanes(targets.keys(), opts.jobs, async (i, lane) => {
    const [t, row, begun] = [targets[i], rows[i], Date.now()]
    say(`${t.platform}: building (lane ${lane})`)
    try {
      await build(t, lane, `[${t.platform}]`)
      row.seconds = ((Date.now() - begun) / 1000).toFixed(0)
      Object.assign(row, checkBinary(t))
    } catch (err) {
      row.problems.push(err.message)
    }
    say(`${t.platform}: ${row.problems.length ? `build FAILED: ${row.problems.join('; ')}` : `built and checked in ${row.seconds} s`}`)
    if (!tested.includes(t)) return
    if (row.problems.length) return cells.push(noRun(t.platform, 'FAIL: not built'))
    cells.push((await prepared).status === 0 ? await runLogged(t) : noRun(t.platform, 'FAIL: its Node.js could not be fetched'))
    say(`${t.platform}: tested`)
  })
  console.log(`\n${buildTable(rows)}`)
  const failedBuilds = rows.filter((r) => r.problems.length).length
  console.log(failedBuilds ? `\n${failedBuilds} of ${rows.length} target(s) failed` : `\nall ${rows.length} target(s) built and checked`)
  for (const t of targets) {
    if (!nodes.NODES[t.platform]) cells.push(await runCell(t))
    else if (opts.untested.includes(t.platform)) {
      cells.push(noRun(t.platform, `built and checked only (--untested): its tests are \`npm run test:targets -- --platform ${t.platform}\``, false))
    }
  }
  const status = report(sortCells(cells), started, opts.markdown)
  say(`done in ${((Date.now() - started) / 60000).toFixed(1)} min, ${childCpu()} s of CPU in its child processes`)
  return failedBuilds || status ? 1 : 0
}

/** In napi.targets' order, as the table has them. */
function sortCells(cells) {
  const order = releaseTargets().map((triple) => target(triple).platform)
  return cells.sort((a, b) => order.indexOf(a.platform) - order.indexOf(b.platform))
}

async function main() {
  const spec = { platform: 'list', files: 'list', markdown: 'value', build: 'flag', jobs: 'jobs', later: 'list', untested: 'list' }
  const opts = parseArgs(process.argv.slice(2), spec, { jobs: 2 })
  const started = Date.now()
  if (opts.build) return buildAndTest(opts, started)
  const all = releaseTargets().map(target)
  const chosen = opts.platform.length ? opts.platform.map((p) => all.find((t) => t.platform === p) ?? target(p)) : all
  const cells = []
  for (const t of chosen) cells.push(await runLogged(t, opts.files.length ? opts.files : undefined))
  return report(cells, started, opts.markdown)
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`matrix-targets: ${err.message}`)
    process.exit(1)
  },
)
