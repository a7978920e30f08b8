'use strict'
// The e2e suite's core on the systemd versions users run: Debian 11's 247 (bullseye) and Debian
// 13's 257 (trixie), each booted from a debootstrap root (testbed/roots.js, kept in .cache/) with
// the npm registry's Node.js and the release binary (npm/linux-x64-gnu/, glibc floor), which is
// what a user there gets. The host's 252 runs the whole e2e suite in `npm test`.
//
//   node scripts/systemd-matrix.js                    prepare, then run every core file on each suite
//   node scripts/systemd-matrix.js --prepare          only make the roots and fetch the Node.js
//   node scripts/systemd-matrix.js --suite trixie --file notify-reload
//   node scripts/systemd-matrix.js --suite host       the same files on the host's root (252)
//   node scripts/systemd-matrix.js --binary sd-notify-rs.linux-x64-gnu.node
//                                   another binary in the roots (the host build fails on bullseye)
//   --markdown FILE                 also write the table as markdown
//
// Prints a table: suite, systemd, file, passed/failed/skipped, seconds, and each skip's reason.
// A file that fails runs once more; exits 1 when any file failed twice (a pass on the second run
// is shown as such, with what failed the first time).

const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { SUITES, RELEASE_BINARY, ROOT_NODE_SPEC } = require('../testbed/roots')
const { fetchRuntime } = require('./runtimes')
const { parseArgs: parse, spawnCollect, nodeTest, table: render } = require('./common')

const ROOT = path.join(__dirname, '..')
const E2E = path.join(ROOT, '__test__', 'e2e')

// The core: start, status, barrier, reload (notify, onReload, notify-reload), drain, watchdog,
// journal, daemon-reexec; harness.test.js first (the boot itself); systemd-versions.test.js
// checks what differs between versions.
const CORE = [
  { file: 'harness.test.js' },
  { file: 'notify.test.js' },
  { file: 'watchdog.test.js' },
  { file: 'lifecycle.test.js' },
  { file: 'journal.test.js' },
  { file: 'faults.test.js', pattern: 'daemon-reexec|daemon-reload' },
  { file: 'notify-reload.test.js' },
  { file: 'systemd-versions.test.js' },
]

function parseArgs(argv) {
  const opts = parse(argv, { suite: 'list', file: 'list', prepare: 'flag', binary: 'value', markdown: 'value' })
  for (const k of ['binary', 'markdown']) if (opts[k]) opts[k] = path.resolve(opts[k])
  if (!opts.suite.length) opts.suite = Object.keys(SUITES)
  for (const s of opts.suite) if (s !== 'host' && !Object.hasOwn(SUITES, s)) throw new Error(`unknown suite ${s}: use ${Object.keys(SUITES).join(', ')} or host`)
  return opts
}

/** Makes the missing roots, side by side (each is mostly downloads and dpkg), and fetches the Node.js. */
async function prepare(suites) {
  const node = fetchRuntime({ kind: 'node', spec: ROOT_NODE_SPEC, binary: 'bin/node' }, (m) => console.log(`systemd-matrix: ${m}`))
  const make = async (suite) => {
    const r = await spawnCollect(process.execPath, [path.join(ROOT, 'testbed', 'roots.js'), suite])
    if (r.status !== 0) throw new Error(`making the ${suite} root failed:\n${r.out}`)
    console.log(`systemd-matrix: root ${suite} ready in ${Math.round(r.seconds)} s`)
  }
  await Promise.all(suites.filter((s) => s !== 'host').map(make))
  return node
}

/** Runs one e2e file against one suite (its spec report echoed, prefixed); resolves with its row. */
async function runCell(suite, entry, node, binary) {
  const env = { ...process.env, CI: 'true', SD_NOTIFY_RS_SYSTEMD: suite }
  if (suite !== 'host') env.SD_NOTIFY_RS_E2E_NODE = node.exe
  if (binary) env.SD_NOTIFY_RS_E2E_NATIVE_PATH = binary
  const args = entry.pattern ? [`--test-name-pattern=${entry.pattern}`] : []
  const r = await nodeTest(process.execPath, [path.join(E2E, entry.file)], { args, spec: true, cwd: ROOT, env, prefix: `[${suite} ${entry.file}] ` })
  const file = entry.file + (entry.pattern ? ` (${entry.pattern})` : '')
  return { ...r, suite, file, systemd: SUITES[suite]?.systemd ?? hostVersion(), seconds: r.seconds.toFixed(0), ok: r.status === 0 }
}

/** The host's systemd version, for the `--suite host` rows. */
function hostVersion() {
  const r = cp.spawnSync('systemctl', ['--version'], { encoding: 'utf8' })
  return /^systemd (\d+)/.exec(r.stdout || '')?.[1] ?? '?'
}

function table(rows, markdown) {
  const head = ['suite', 'systemd', 'file', 'pass', 'fail', 'skip', 's', 'result']
  const cells = rows.map((r) => [r.suite, r.systemd, r.file, r.pass, r.fail, r.skip, r.seconds, r.ok ? (r.retried ? 'ok on a 2nd run' : 'ok') : 'FAIL'])
  return render(head, cells, { markdown: Boolean(markdown) })
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const node = await prepare(opts.suite)
  console.log(`systemd-matrix: Node.js ${node.version} from ${ROOT_NODE_SPEC}; prepared in ${Math.round((Date.now() - started) / 1000)} s`)
  if (opts.prepare) return 0
  const binary = opts.binary || RELEASE_BINARY
  if (opts.suite.some((s) => s !== 'host') && !fs.existsSync(binary)) throw new Error(`${binary} is missing: build the release binary with \`npm run build:all -- --target x86_64-unknown-linux-gnu\``)
  const core = opts.file.length ? CORE.filter((e) => opts.file.some((f) => e.file === f || e.file === `${f}.test.js`)) : CORE
  if (!core.length) throw new Error(`no core file matches ${opts.file.join(', ')}: ${CORE.map((e) => e.file).join(', ')}`)
  const rows = []
  for (const suite of opts.suite) {
    for (const entry of core) {
      let row = await runCell(suite, entry, node, opts.binary)
      // Under the CI's load a real systemd's timing can fail a test once: a second run tells a
      // flake (reported: the row says so and names what failed) from a fault (fails again).
      if (!row.ok) {
        console.log(`systemd-matrix: ${suite} ${entry.file} failed (${row.failed.join('; ') || 'no test named'}); once more`)
        const again = await runCell(suite, entry, node, opts.binary)
        row = again.ok ? { ...again, retried: row.failed } : again
      }
      rows.push(row)
    }
  }
  console.log(`\nsystemd matrix (binary ${path.relative(ROOT, binary)}, Node.js ${node.version} in the roots):\n${table(rows)}`)
  const skips = rows.flatMap((r) => r.skips.map((s) => `  ${r.suite} ${r.file}: ${s}`))
  if (skips.length) console.log(`\nskipped, and why:\n${skips.join('\n')}`)
  const flakes = rows.filter((r) => r.retried).map((r) => `  ${r.suite} ${r.file}: ${r.retried.join('; ')}`)
  if (flakes.length) console.log(`\nfailed once, passed on a second run (a flake to mend):\n${flakes.join('\n')}`)
  console.log(`\nsystemd-matrix: ${Math.round((Date.now() - started) / 1000)} s in all`)
  if (opts.markdown) fs.writeFileSync(opts.markdown, `${table(rows, true)}\n`)
  return rows.every((r) => r.ok) ? 0 : 1
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`systemd-matrix: ${err.message}`)
      process.exitCode = 1
    },
  )
}

module.exports = { CORE, parseArgs, table }
