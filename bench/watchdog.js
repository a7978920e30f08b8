'use strict'
// Part 4: what keeping the watchdog fed costs an otherwise idle process, pinging every 500 ms,
// and how many threads the module adds. All variants run at the same time, each its own `node`
// with its own draining receiver; we read /proc over a few windows and take the median.
//   threads: entries in /proc/PID/task
//   CPU: utime+stime of /proc/PID/stat (clock ticks: coarse) and the sum of the first field of
//        /proc/PID/task/*/schedstat (ns on CPU: precise)
//   wake-ups: voluntary + involuntary context switches summed over /proc/PID/task/*/status
// Windows are shorter than a minute; per-minute figures are extrapolated.

const cp = require('node:child_process')
const fs = require('node:fs')
const { REPO_ROOT, median, log, sleep, startDrainer } = require('./common')

const INTERVAL_MS = 500
const TICKS_PER_SEC = 100 // USER_HZ on Linux

const KEEP_ALIVE = 'setInterval(() => {}, 1 << 30);'

function readTask(pid) {
  // A process that ends between the exitCode check and here throws ENOENT: the window is lost.
  const tasks = fs.readdirSync(`/proc/${pid}/task`)
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  let cpuNs = 0
  let switches = 0
  let mainSwitches = 0
  for (const t of tasks) {
    try {
      cpuNs += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0])
      const status = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8')
      const n = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)[1]) + Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)[1])
      switches += n
      if (t === String(pid)) mainSwitches = n
    } catch {} // a thread that ended between readdir and read
  }
  return { threads: tasks.length, ticks: Number(f[11]) + Number(f[12]), cpuNs, switches, mainSwitches }
}

/** Whether this build has the watchdog (startWatchdog() landed after the first benchmarks). */
function hasStartWatchdog(root) {
  return typeof require(root).startWatchdog === 'function'
}

async function run({ sdNotify, windows = 3, windowMs = 10_000, settleMs = 2000, root = REPO_ROOT }) {
  const ours = JSON.stringify(root)
  const started = hasStartWatchdog(root)
  const noWatchdogEnv = { WATCHDOG_USEC: undefined }
  const variants = [
    { key: 'idle', label: 'idle `node`, nothing loaded (baseline)', code: KEEP_ALIVE },
    started
      ? {
          key: 'oursNotAsked',
          label: '**sd-notify-rs** `startWatchdog()` when no watchdog was asked for (no WATCHDOG_USEC)',
          code: `if (require(${ours}).startWatchdog() !== null) throw new Error('a watchdog started'); ${KEEP_ALIVE}`,
          env: noWatchdogEnv,
        }
      : { key: 'oursNotAsked', label: '**sd-notify-rs** loaded, no watchdog asked for', code: `require(${ours}); ${KEEP_ALIVE}`, env: noWatchdogEnv },
    started
      ? { key: 'oursWatchdog', label: `**sd-notify-rs** \`startWatchdog({ intervalMs: ${INTERVAL_MS} })\``, code: `require(${ours}).startWatchdog({ intervalMs: ${INTERVAL_MS} }); ${KEEP_ALIVE}`, pings: true }
      : { key: 'oursWatchdog', label: '**sd-notify-rs** `startWatchdog()`', unavailable: 'not available: this build has no startWatchdog()' },
    { key: 'oursInterval', label: `sd-notify-rs \`setInterval(watchdog, ${INTERVAL_MS})\` by hand`, code: `const sd = require(${ours}); setInterval(() => sd.watchdog(), ${INTERVAL_MS});`, pings: true },
  ]
  if (sdNotify.path) {
    variants.push({ key: 'sdNotifyLoaded', label: `\`sd-notify\` ${sdNotify.version} loaded, no watchdog`, code: `require(${JSON.stringify(sdNotify.path)}); ${KEEP_ALIVE}`, env: noWatchdogEnv })
    variants.push({
      key: 'sdNotifyWatchdog',
      label: `\`sd-notify\` ${sdNotify.version} \`startWatchdogMode(${INTERVAL_MS})\``,
      code: `require(${JSON.stringify(sdNotify.path)}).startWatchdogMode(${INTERVAL_MS}); ${KEEP_ALIVE}`,
      pings: true,
    })
  }
  const live = variants.filter((v) => !v.unavailable)
  for (const v of live) {
    v.drainer = await startDrainer({ mode: 'block' })
    // WATCHDOG_USEC = 2 x the interval, the manager's advice; no WATCHDOG_PID (not known before spawn).
    const env = { ...process.env, NOTIFY_SOCKET: v.drainer.address, WATCHDOG_USEC: String(INTERVAL_MS * 2 * 1000), ...v.env }
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
    delete env.WATCHDOG_PID
    v.child = cp.spawn(process.execPath, ['-e', v.code], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    v.stderr = ''
    v.child.stderr.setEncoding('utf8').on('data', (d) => (v.stderr += d))
    v.windows = []
  }
  try {
    await sleep(settleMs) // past start-up
    for (let w = 0; w < windows; w++) {
      log(`watchdog window ${w + 1}/${windows} (${windowMs / 1000} s)`)
      const sample = () => Promise.all(live.map(async (v) => (v.child.exitCode === null ? { ...readTask(v.child.pid), pings: await v.drainer.count(), t: process.hrtime.bigint() } : null)))
      const before = await sample()
      await sleep(windowMs)
      const after = await sample()
      live.forEach((v, i) => {
        if (!before[i] || !after[i] || v.child.exitCode !== null) return // it died: reported below
        const perMin = 60e9 / Number(after[i].t - before[i].t)
        v.windows.push({
          threads: after[i].threads,
          cpuMsPerMin: ((after[i].cpuNs - before[i].cpuNs) / 1e6) * perMin,
          ticksPerMin: (after[i].ticks - before[i].ticks) * perMin,
          wakeupsPerMin: (after[i].switches - before[i].switches) * perMin,
          mainWakeupsPerMin: (after[i].mainSwitches - before[i].mainSwitches) * perMin,
          pingsPerMin: (after[i].pings - before[i].pings) * perMin,
        })
      })
    }
  } finally {
    for (const v of live) {
      if (v.child.exitCode === null) v.child.kill('SIGKILL')
      await v.drainer.close()
    }
  }
  const idleThreads = median(live[0].windows.map((w) => w.threads))
  return {
    windows,
    windowMs,
    rows: variants.map((v) => {
      if (v.unavailable) return { key: v.key, label: v.label, unavailable: v.unavailable }
      if (v.windows.length === 0) return { key: v.key, label: v.label, unavailable: `exited early: ${v.stderr.trim().split('\n').slice(0, 5).join(' ')}` }
      const m = (k) => median(v.windows.map((w) => w[k]))
      return {
        key: v.key,
        label: v.label,
        threads: m('threads'),
        addedThreads: m('threads') - idleThreads,
        cpuMsPerMin: m('cpuMsPerMin'),
        cpuTicksMsPerMin: (m('ticksPerMin') * 1000) / TICKS_PER_SEC,
        wakeupsPerMin: m('wakeupsPerMin'),
        mainWakeupsPerMin: m('mainWakeupsPerMin'),
        pingsPerMin: v.pings ? m('pingsPerMin') : m('pingsPerMin') || 0,
      }
    }),
  }
}

module.exports = { run }
