'use strict'
// Part 1, counted: user-space instructions per call, counted by valgrind's callgrind: deterministic where
// the timings of part 1 are noisy. Only what runs inside Node's N-API trampoline
// (v8impl::FunctionCallbackWrapper::Invoke) is counted: the addon's function, what it calls in
// libc and N-API, not V8's call path (the same for both) nor the kernel's side of sendmsg.

const cp = require('node:child_process')
const { NAPI_FLOOR, REPO_ROOT, log, startDrainer } = require('./common')

const CALLS = 2000

// argv: addon path, call. One call to warm up, then CALLS calls.
const CHILD = `const m = { exports: {} }
process.dlopen(m, process.argv[1])
const api = m.exports
const f = new Function('api', 'return ' + process.argv[2])
f(api)
for (let i = 0; i < ${CALLS}; i++) f(api)`

function hasValgrind() {
  return cp.spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0
}

/** The path of this package's .node file as its loader would pick it. */
function oursAddonPath() {
  const { platformTriple } = require(`${REPO_ROOT}/lib/loader`)
  return process.env.SD_NOTIFY_RS_NATIVE_PATH || `${REPO_ROOT}/sd-notify-rs.${platformTriple()}.node`
}

function count(addon, call, env) {
  const r = cp.spawnSync(
    'valgrind',
    ['--tool=callgrind', '--collect-atstart=no', '--toggle-collect=*FunctionCallbackWrapper::Invoke*', '--callgrind-out-file=/dev/null', process.execPath, '-e', CHILD, addon, call],
    { env, encoding: 'utf8' },
  )
  const m = /Collected : (\d+)/.exec(r.stderr)
  if (r.status !== 0 || !m) throw new Error(`callgrind failed: ${r.stderr.slice(-500)}`)
  return Number(m[1]) / (CALLS + 1)
}

async function run() {
  if (!hasValgrind()) return { unavailable: 'valgrind is not installed (apt-get install valgrind)' }
  const drainer = await startDrainer({ mode: 'block' })
  const env = { ...process.env, NOTIFY_SOCKET: drainer.address }
  // The native half of journal.send(): the field lines lib/journal.js builds for the entry of
  // the journal part of the bench, checked and sent to the same receiver. The floor has no
  // journal function (its row shows "–").
  const entry = 'MESSAGE=GET /api/orders 200 in 12 ms\nPRIORITY=6\nX_REQ_ID=7f3a9c21\nSYSLOG_IDENTIFIER=bench\n'
  // The bytes of its names, which the native half checks the lines against.
  const ENTRY_NAMES = [...entry.matchAll(/^([A-Z_0-9]+)=/gm)].reduce((n, m) => n + m[1].length, 0)
  const ops = [
    { name: 'watchdog()', call: 'api.watchdog()' },
    { name: "status('x')", call: "api.status('x')" },
    { name: 'ready()', call: 'api.ready()' },
    { name: 'journalSend(entry)', call: `api.journalSend(${JSON.stringify(entry)}, ${ENTRY_NAMES}, ${JSON.stringify(drainer.address)})`, oursOnly: true },
  ]
  const rows = []
  try {
    for (const [label, addon, ours] of [
      ['floor in Node: a raw N-API function doing only the `sendmsg`', NAPI_FLOOR, false],
      ['**sd-notify-rs** (this package)', oursAddonPath(), true],
    ]) {
      log(`callgrind: ${label}`)
      rows.push({ label, counts: ops.map((op) => (op.oursOnly && !ours ? NaN : count(addon, op.call, env))) })
    }
  } finally {
    await drainer.close()
  }
  return { calls: CALLS, ops: ops.map((o) => o.name), rows }
}

module.exports = { run }
