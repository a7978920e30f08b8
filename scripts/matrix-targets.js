'use strict'
// Runs the JavaScript suite (__test__/*.test.js, not the e2e suite, which needs a private systemd)
// against each foreign or musl binary that `npm run build:all` left in npm/<platform>/, on a Node.js
// of that platform: QEMU user mode (binfmt_misc) for the foreign architectures, a musl Node for the
// musl binaries. The binary is found the way an installed package finds it: the loader detects the
// platform and requires `sd-notify-rs-<platform>`, linked into node_modules as npm would install it.
//
//   node scripts/matrix-targets.js [--platform <platform>]... [--markdown <file>]
//
// Prints a table and exits 1 when any cell fails. --markdown writes the table into <file> between
// the markers <!-- targets:begin --> and <!-- targets:end --> (appended when they are missing).

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { target, binaryPath, releaseTargets } = require('./targets')
const nodes = require('./target-nodes')

const ROOT = path.join(__dirname, '..')
const CELL_TIMEOUT_MS = 15 * 60 * 1000

/** Runs node's test runner with `node` over `files`; resolves with its TAP counts. */
function runSuite(node, files, env) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(node, ['--test', '--test-reporter=tap', ...files], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), CELL_TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN)
      const failures = [...out.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1].replace(/ # .*$/, ''))
      resolve({ code, signal, seconds: (Date.now() - started) / 1000, tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped'), cancelled: count('cancelled'), failures, out })
    })
  })
}

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

async function runCell(t, only) {
  const cell = { platform: t.platform, node: '-', where: '-', seconds: 0, result: '' }
  const how = nodes.NODES[t.platform]
  if (!how) return { ...cell, result: 'built and checked only: no Node.js for this platform' }
  cell.where = how.where
  if (!fs.existsSync(binaryPath(t))) return { ...cell, result: `FAIL: ${path.relative(ROOT, binaryPath(t))} is missing: run npm run build:all`, failed: true }
  let node
  try {
    node = nodes.prepare(t)
  } catch (err) {
    return { ...cell, result: `FAIL: no Node.js to run: ${err.message}`, failed: true }
  }
  const version = spawnSync(node, ['-p', 'process.version + " " + process.arch'], { encoding: 'utf8', timeout: 120000 })
  cell.node = version.stdout?.trim() || `does not start: ${(version.stderr || version.error?.message || '').trim().split('\n')[0]}`
  // The loader must pick this platform on its own: no override of the path or the platform.
  const env = { ...process.env, SD_NOTIFY_RS_NATIVE_PATH: '', SD_NOTIFY_RS_PLATFORM: '' }
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
    const r = await runSuite(node, files, env)
    if (how.qemu && !fs.existsSync(nodes.binfmtEntry(how.qemu))) {
      return { ...cell, result: `FAIL: ${nodes.binfmtEntry(how.qemu)} vanished during the run (an apt trigger?): run again`, failed: true }
    }
    cell.seconds = r.seconds
    cell.counts = `${r.pass}/${r.tests} passed, ${r.fail} failed, ${r.skipped} skipped`
    const ok = r.code === 0 && r.fail === 0 && r.pass > 0
    cell.result = ok ? 'ok' : `FAIL (exit ${r.code ?? r.signal}): ${r.failures.slice(0, 5).join('; ') || r.out.slice(-400)}`
    cell.failed = !ok
    if (!ok) fs.writeFileSync(path.join(nodes.CACHE, `matrix-${t.platform}.log`), r.out)
    return cell
  } finally {
    unlink()
  }
}

function table(cells) {
  const lines = ['| platform | Node.js (where) | files | tests | time | result |', '| --- | --- | --- | --- | --- | --- |']
  for (const c of cells) {
    const node = c.node === '-' ? '-' : `${c.node} (${c.where})`
    lines.push(`| ${c.platform} | ${node} | ${c.files ?? '-'} | ${c.counts ?? '-'} | ${c.seconds ? `${c.seconds.toFixed(0)} s` : '-'} | ${c.result} |`)
  }
  return lines.join('\n')
}

function writeMarkdown(file, text) {
  const [begin, end] = ['<!-- targets:begin -->', '<!-- targets:end -->']
  const block = `${begin}\n${text}\n${end}`
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const at = old.indexOf(begin)
  const next = at >= 0 ? old.slice(0, at) + block + old.slice(old.indexOf(end) + end.length) : `${old}${old ? '\n' : ''}## Targets\n\n${block}\n`
  fs.writeFileSync(file, next)
}

async function main() {
  const argv = process.argv.slice(2)
  const platforms = []
  let markdown
  let only
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--platform') platforms.push(argv[++i])
    else if (argv[i] === '--markdown') markdown = argv[++i]
    else if (argv[i] === '--files') only = argv[++i].split(',')
    else throw new Error(`unknown argument ${argv[i]}: use --platform <platform>, --markdown <file>, --files <a,b>`)
  }
  const all = releaseTargets().map(target)
  const chosen = platforms.length ? platforms.map((p) => all.find((t) => t.platform === p) ?? target(p)) : all
  const cells = []
  const started = Date.now()
  for (const t of chosen) cells.push(await runLogged(t, only))
  return report(cells, started, markdown)
}

/** runCell with a line before and after. */
async function runLogged(t, only) {
  console.log(`${t.platform}: running`)
  const cell = await runCell(t, only)
  console.log(`${t.platform}: ${cell.counts ?? ''} ${cell.result}`)
  return cell
}

/** Prints the table of `cells` (and writes it into `markdown`); returns the exit status. */
function report(cells, started, markdown) {
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  const subset = EMULATED_FILES.map((f) => `${f}.test.js`).join(', ')
  const text = `${table(cells)}\n\n"binary subset" (QEMU): ${subset}.\n\nRun ${new Date().toISOString().slice(0, 16)}Z in ${minutes} min (${nodes.describeHost()}).`
  console.log(`\n${text}`)
  if (markdown) writeMarkdown(path.resolve(markdown), text)
  const failed = cells.filter((c) => c.failed).length
  if (failed) console.log(`\n${failed} cell(s) failed; logs in ${path.relative(ROOT, nodes.CACHE)}/matrix-<platform>.log`)
  return failed ? 1 : 0
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`matrix-targets: ${err.message}`)
      process.exit(1)
    },
  )
}

module.exports = { runLogged, report }
