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
const os = require('node:os')
const path = require('node:path')
const { SUITES, RELEASE_BINARY, ROOT_NODE_SPEC } = require('../testbed/roots')
const { fetchRuntime } = require('./runtimes')

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
  const opts = { suites: [], files: [], prepareOnly: false, binary: null, markdown: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--suite') opts.suites.push(...argv[++i].split(','))
    else if (a === '--file') opts.files.push(...argv[++i].split(','))
    else if (a === '--prepare') opts.prepareOnly = true
    else if (a === '--binary') opts.binary = path.resolve(argv[++i])
    else if (a === '--markdown') opts.markdown = path.resolve(argv[++i])
    else throw new Error(`unknown argument ${a}: use --suite <s,...>, --file <f,...>, --prepare, --binary <file>, --markdown <file>`)
  }
  if (!opts.suites.length) opts.suites = Object.keys(SUITES)
  for (const s of opts.suites) if (s !== 'host' && !Object.hasOwn(SUITES, s)) throw new Error(`unknown suite ${s}: use ${Object.keys(SUITES).join(', ')} or host`)
  return opts
}

/** Makes the missing roots, side by side (each is mostly downloads and dpkg), and fetches the Node.js. */
async function prepare(suites) {
  const node = fetchRuntime({ kind: 'node', spec: ROOT_NODE_SPEC, binary: 'bin/node' }, (m) => console.log(`systemd-matrix: ${m}`))
  const makes = suites
    .filter((s) => s !== 'host')
    .map(
      (suite) =>
        new Promise((resolve, reject) => {
          const started = Date.now()
          const child = cp.spawn(process.execPath, [path.join(ROOT, 'testbed', 'roots.js'), suite], { stdio: ['ignore', 'pipe', 'pipe'] })
          let out = ''
          child.stdout.on('data', (d) => (out += d))
          child.stderr.on('data', (d) => (out += d))
          child.on('close', (code) => {
            const seconds = Math.round((Date.now() - started) / 1000)
            if (code === 0) {
              console.log(`systemd-matrix: root ${suite} ready in ${seconds} s`)
              resolve()
            } else reject(new Error(`making the ${suite} root failed:\n${out}`))
          })
        }),
    )
  await Promise.all(makes)
  return node
}

/** Runs one e2e file against one suite; resolves with its row. */
function runCell(suite, entry, node, binary) {
  return new Promise((resolve) => {
    const tap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sd-matrix-')), 'tap')
    const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`]
    if (entry.pattern) args.push(`--test-name-pattern=${entry.pattern}`)
    args.push(path.join(E2E, entry.file))
    const env = { ...process.env, CI: 'true', SD_NOTIFY_RS_SYSTEMD: suite }
    if (suite !== 'host') env.SD_NOTIFY_RS_E2E_NODE = node.exe
    if (binary) env.SD_NOTIFY_RS_E2E_NATIVE_PATH = binary
    const started = Date.now()
    const child = cp.spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const prefix = `[${suite} ${entry.file}] `
    for (const stream of [child.stdout, child.stderr]) {
      let rest = ''
      stream.setEncoding('utf8').on('data', (d) => {
        const lines = (rest + d).split('\n')
        rest = lines.pop()
        for (const l of lines) process.stdout.write(prefix + l + '\n')
      })
    }
    child.on('close', (code) => {
      const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : ''
      fs.rmSync(path.dirname(tap), { recursive: true, force: true })
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
      // The tests --test-name-pattern leaves out are not skips worth a line.
      const skips = [...text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)]
        .filter((m) => m[2] !== 'test name does not match pattern')
        .map((m) => `${m[1]}: ${m[2] || 'skipped'}`)
      resolve({
        failed: [...text.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]),
        suite,
        systemd: SUITES[suite]?.systemd ?? hostVersion(),
        file: entry.file + (entry.pattern ? ` (${entry.pattern})` : ''),
        pass: count('pass'),
        fail: count('fail') + count('cancelled'),
        skip: skips.length,
        seconds: ((Date.now() - started) / 1000).toFixed(0),
        ok: code === 0,
        skips,
      })
    })
  })
}

/** The host's systemd version, for the `--suite host` rows. */
function hostVersion() {
  const r = cp.spawnSync('systemctl', ['--version'], { encoding: 'utf8' })
  return /^systemd (\d+)/.exec(r.stdout || '')?.[1] ?? '?'
}

function table(rows, markdown) {
  const head = ['suite', 'systemd', 'file', 'pass', 'fail', 'skip', 's', 'result']
  const cells = rows.map((r) => [r.suite, String(r.systemd), r.file, String(r.pass), String(r.fail), String(r.skip), r.seconds, r.ok ? (r.retried ? 'ok on a 2nd run' : 'ok') : 'FAIL'])
  if (markdown) {
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n')
  }
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  return [head, ...cells].map((c) => c.map((x, i) => x.padEnd(widths[i])).join('  ')).join('\n')
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const node = await prepare(opts.suites)
  console.log(`systemd-matrix: Node.js ${node.version} from ${ROOT_NODE_SPEC}; prepared in ${Math.round((Date.now() - started) / 1000)} s`)
  if (opts.prepareOnly) return 0
  const binary = opts.binary || RELEASE_BINARY
  if (opts.suites.some((s) => s !== 'host') && !fs.existsSync(binary)) throw new Error(`${binary} is missing: build the release binary with \`npm run build:all -- --target x86_64-unknown-linux-gnu\``)
  const core = opts.files.length ? CORE.filter((e) => opts.files.some((f) => e.file === f || e.file === `${f}.test.js`)) : CORE
  if (!core.length) throw new Error(`no core file matches ${opts.files.join(', ')}: ${CORE.map((e) => e.file).join(', ')}`)
  const rows = []
  for (const suite of opts.suites) {
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
