'use strict'
// Part 1: the cost of one notification, against a receiver that drains continuously.
// Every contender sends the same datagram to the same drainer. Native loops (this package, the
// sd-notify npm package, the Rust floor and the libsystemd-style sender) run N calls per run,
// K runs interleaved round by round; spawn-based ones run fewer. Figure: median of per-call means.

const cp = require('node:child_process')
const { FLOOR_BIN, NAPI_FLOOR, REPO_ROOT, median, quantile, log, startDrainer, timedLoop } = require('./common')

const OPS = [
  { name: 'watchdog()', payload: 'WATCHDOG=1', ours: 'api.watchdog()', sdNotify: 'api.watchdog()', systemdNotify: ['WATCHDOG=1'] },
  { name: "status('x')", payload: 'STATUS=x', ours: "api.status('x')", sdNotify: "api.sendStatus('x')", systemdNotify: ['--status=x'] },
  { name: 'ready()', payload: 'READY=1', ours: 'api.ready()', sdNotify: 'api.ready()', systemdNotify: ['--ready'] },
]

function floorRun(mode, payload, n, env) {
  const out = cp.execFileSync(FLOOR_BIN, ['send', mode, payload, String(n)], { env, encoding: 'utf8' })
  return JSON.parse(out)
}

function spawnLoop(cmd, argsOf, n, env) {
  let errors = 0
  let first = null
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const r = cp.spawnSync(cmd, argsOf, { env, stdio: 'ignore' })
    if (r.status !== 0) {
      errors++
      first ??= r.error?.code || `exit ${r.status ?? r.signal}`
    }
  }
  return { nsPerCall: Number(process.hrtime.bigint() - t0) / n, errors, firstError: first }
}

async function run({ sdNotify, python, rounds = 15, spawnRounds = 5, n = 20000, drainMode = 'spin' }) {
  const drainer = await startDrainer({ mode: drainMode })
  const env = { ...process.env, NOTIFY_SOCKET: drainer.address }
  delete env.WATCHDOG_USEC
  delete env.WATCHDOG_PID
  const saved = process.env.NOTIFY_SOCKET
  process.env.NOTIFY_SOCKET = drainer.address // read per call by this package and by libsystemd
  const ours = require(REPO_ROOT)
  const sdn = sdNotify.path ? require(sdNotify.path) : null
  const napiFloor = { exports: {} }
  process.dlopen(napiFloor, NAPI_FLOOR)
  const slowN = Math.max(1, Math.round(n / 4)) // the per-call-socket senders are ~4x slower

  const contenders = [
    { key: 'floor', label: 'floor: one `sendmsg` to the address on an open socket (Rust)', run: (op, k) => floorRun('floor', op.payload, k, env), n },
    { key: 'floorConnected', label: 'floor, connected: one `sendmsg` on a socket connected to the address once (Rust)', run: (op, k) => floorRun('connected', op.payload, k, env), n },
    { key: 'napiFloor', label: 'floor in Node: a raw N-API function doing only that connected `sendmsg` (Rust)', run: (op, k) => op.napiFloorLoop(napiFloor.exports, k), n },
    { key: 'ours', label: '**sd-notify-rs** (this package)', run: (op, k) => op.oursLoop(ours, k), n },
    { key: 'libsystemd', label: 'libsystemd per call: socket + SO_SNDBUF + sendmsg + close (Rust)', run: (op, k) => floorRun('libsystemd', op.payload, k, env), n: slowN },
  ]
  // The same calls with NOTIFY_SOCKET unset: everything this package does except the send
  // (N-API call, building the message, getenv), to split its cost from the kernel's.
  contenders.splice(3, 0, {
    key: 'oursUnset',
    label: 'sd-notify-rs with NOTIFY_SOCKET unset (no send: its own overhead)',
    run: (op, k) => {
      delete process.env.NOTIFY_SOCKET
      try {
        return { ...op.oursLoop(ours, k), unsent: true }
      } finally {
        process.env.NOTIFY_SOCKET = drainer.address
      }
    },
    n,
  })
  if (sdn) contenders.push({ key: 'sdNotify', label: `\`sd-notify\` ${sdNotify.version} npm (node-gyp + libsystemd)`, run: (op, k) => op.sdNotifyLoop(sdn, k), n: slowN })
  const spawners = [
    { key: 'systemdNotify', label: 'spawn `systemd-notify --no-block` per call', run: (op, k) => spawnLoop('systemd-notify', ['--no-block', ...op.systemdNotify], k, env), n: 20 },
  ]
  if (python) {
    spawners.push({
      key: 'python',
      label: `spawn \`python3 -c\` one-line sender per call (${python.version})`,
      run: (op, k) =>
        spawnLoop(python.exe, ['-c', `import os,socket;socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM).sendto(b${JSON.stringify(op.payload)},os.environ["NOTIFY_SOCKET"])`], k, env),
      n: 10,
    })
  }
  const all = [...contenders, ...spawners]
  for (const op of OPS) {
    // Not counting `false` as an error: the NOTIFY_SOCKET-unset row is all `false` on purpose.
    op.oursLoop = timedLoop(op.ours, false)
    op.napiFloorLoop = timedLoop(op.ours, false) // the N-API floor has the same three functions; a loop of its own
    op.sdNotifyLoop = timedLoop(op.sdNotify, false)
  }

  // Warm-up (JIT, page cache, the cached socket), then measured rounds, interleaved.
  let sent = 0
  for (const op of OPS) {
    for (const c of contenders) {
      const k = Math.min(2000, c.n)
      const r = c.run(op, k)
      if (!r.unsent) sent += k - r.errors + (r.warmup || 0)
    }
  }
  const samples = {}
  for (const c of all) for (const op of OPS) samples[`${c.key}|${op.name}`] = []
  for (let round = 0; round < rounds; round++) {
    log(`per-call round ${round + 1}/${rounds}`)
    const list = round < spawnRounds ? all : contenders
    for (const op of OPS) {
      for (const c of list) {
        const r = c.run(op, c.n)
        if (!r.unsent) sent += c.n - r.errors + (r.warmup || 0)
        samples[`${c.key}|${op.name}`].push(r)
      }
    }
  }
  const received = await waitForCount(drainer, sent)
  process.env.NOTIFY_SOCKET = saved ?? ''
  if (saved === undefined) delete process.env.NOTIFY_SOCKET
  await drainer.close()

  const table = all.map((c) => ({
    key: c.key,
    label: c.label,
    calls: `${c.n} x ${c.key === 'systemdNotify' || c.key === 'python' ? spawnRounds : rounds}`,
    ops: OPS.map((op) => {
      const runs = samples[`${c.key}|${op.name}`]
      const ns = runs.map((r) => r.nsPerCall)
      const errors = runs.reduce((a, r) => a + r.errors, 0)
      return { op: op.name, ns: median(ns), q1: quantile(ns, 0.25), q3: quantile(ns, 0.75), errors, firstError: runs.find((r) => r.firstError)?.firstError ?? null }
    }),
  }))
  const base = table.find((r) => r.key === 'floor')
  for (const row of table) row.ops.forEach((o, i) => (o.ratio = o.ns / base.ops[i].ns))
  // Paired ratios (same round, back to back) for the goals: less exposed to drift on a noisy machine.
  const paired = (a, b) =>
    OPS.map((op) => {
      const x = samples[`${a}|${op.name}`]
      const y = samples[`${b}|${op.name}`]
      return y.length ? median(x.map((r, i) => r.nsPerCall / y[i].nsPerCall)) : NaN
    })
  return {
    ops: OPS.map((o) => o.name),
    table,
    drain: `${drainMode} (${drainer.banner.replace(/^ready /, '')})`,
    sent,
    received,
    oursOverFloor: paired('ours', 'floor'),
    oursOverConnectedFloor: paired('ours', 'floorConnected'),
    oursOverNapiFloor: paired('ours', 'napiFloor'),
    oursOverSdNotify: sdn ? paired('ours', 'sdNotify') : null,
    sdNotify,
  }
}

async function waitForCount(drainer, expected) {
  const deadline = Date.now() + 3000
  let got = await drainer.count()
  while (got < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    got = await drainer.count()
  }
  return got
}

module.exports = { run }
