#!/usr/bin/env node
'use strict'
// `npm run bench`: measures sd-notify-rs against the alternatives in one run and writes
// BENCHMARKS.md (a markdown report, also printed on stdout).
//
//   node bench/run.js [--only=percall,journal,loggers,instructions,startup,watchdog,restart] [--quick] [--no-write]
//
// --only runs some parts (and then does not write BENCHMARKS.md unless --write is given);
// --quick uses fewer rounds (for trying the bench out, not for the published figures).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const common = require('./common')

const PARTS = ['percall', 'journal', 'loggers', 'instructions', 'startup', 'watchdog', 'restart']
const GOAL_FLOOR = 1.2 // every notification function within 1.2x of one bare sendmsg (issue 11; was 1.3)
const GOAL_SDNOTIFY = 1 / 3 // and at most a third of the sd-notify npm package's cost
const GOAL_JOURNAL_FLOOR = 1.3 // journal.send() within 1.3x of one sendmsg of the same bytes

function parseArgs(argv) {
  const opts = { only: PARTS, quick: false, write: null }
  for (const a of argv) {
    if (a.startsWith('--only=')) opts.only = a.slice(7).split(',').filter(Boolean)
    else if (a === '--quick') opts.quick = true
    else if (a === '--no-write') opts.write = false
    else if (a === '--write') opts.write = true
    else throw new Error(`unknown argument ${a} (see the top of bench/run.js)`)
  }
  for (const p of opts.only) if (!PARTS.includes(p)) throw new Error(`unknown part ${p}: one of ${PARTS.join(', ')}`)
  if (opts.write === null) opts.write = opts.only.length === PARTS.length && !opts.quick
  return opts
}

// ---- formatting ----

const fix = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–')
function time(ns) {
  if (!Number.isFinite(ns)) return '–'
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`
  return `${(ns / 1e3).toFixed(2)} µs`
}
const ratio = (x) => (Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x.toFixed(2)}×` : '–')
const verdict = (ok) => (ok ? '**met**' : '**missed**')

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

function renderMachine(m, extra) {
  return `## Machine

| | |
| --- | --- |
| date | ${m.date} |
| CPU | ${m.cpu}, ${m.cores} cores (shared, noisy) |
| memory | ${m.memory} |
| kernel | ${m.kernel} |
| OS | ${m.distro} |
| Node.js | ${m.node} |
| systemd | ${m.systemd} |
| Rust | ${m.rustc} |
| sd-notify-rs | commit ${m.commit}${m.dirty ? ' (with uncommitted changes to the sources)' : ''} |
| sd-notify (npm) | ${extra.sdNotify.path ? `${extra.sdNotify.version}, built with node-gyp against libsystemd in bench/scratch/` : `**not measured**: ${extra.sdNotify.reason}`} |
| python3 | ${extra.python ? `${extra.python.version} (${extra.python.exe})` : 'not found'} |
| load average (1 min) | ${fix(extra.loadStart)} at the start, ${fix(extra.loadEnd)} at the end (other work on the machine makes the figures noisier) |`
}

function renderPercall(r) {
  const rows = r.table.map((row) => [row.label, ...row.ops.map((o) => `${time(o.ns)} (${ratio(o.ratio)})${o.errors ? ` ⚠ ${o.errors} errors: ${o.firstError}` : ''}`), row.calls])
  const floorGoal = r.oursOverFloor.map((x) => x <= GOAL_FLOOR)
  const sdGoal = r.oursOverSdNotify?.map((x) => x <= GOAL_SDNOTIFY)
  const goals = [
    `- Within ${GOAL_FLOOR}× of the floor: ${r.ops.map((op, i) => `${op} ${ratio(r.oursOverFloor[i])}`).join(', ')} → ${verdict(floorGoal.every(Boolean))}${
      floorGoal.some(Boolean) && !floorGoal.every(Boolean) ? ` (met for ${r.ops.filter((_, i) => floorGoal[i]).join(', ')})` : ''
    }.`,
    `- Against the connected floor (the least a sender on a connected socket, as this package's is, can do; its own overhead): ${r.ops
      .map((op, i) => `${op} ${ratio(r.oursOverConnectedFloor[i])}`)
      .join(', ')}.`,
    r.oursOverSdNotify
      ? `- At most a third of \`sd-notify\`'s cost: ${r.ops.map((op, i) => `${op} ${ratio(r.oursOverSdNotify[i])}`).join(', ')} → ${verdict(sdGoal.every(Boolean))}.`
      : '- At most a third of `sd-notify`\'s cost: **not measured** (the package could not be built, see above).',
  ]
  return `## 1. One notification from JavaScript

Per-call time, median over runs of the mean of a tight loop (\`N x runs\` in the last column), and
in brackets the ratio to the floor measured in the same run. Every sender sends the same datagram
(\`WATCHDOG=1\`, \`STATUS=x\`, \`READY=1\`) to the same receiver: a separate process that drains the
socket continuously (${r.drain}), so no send ever waits for room in the queue. Rounds interleave
all senders, so the machine's noise falls on all of them alike.

${table(['sender', ...r.ops.map((o) => `\`${o}\``), 'N x runs'], rows)}

Goals, as the median of the ratios of back-to-back runs (same round, same datagram):
${goals.join('\n')}
- For scale, against the floor inside Node (same N-API call, no work but the \`sendmsg\`):
  ${r.ops.map((op, i) => `${op} ${ratio(r.oursOverNapiFloor[i])}`).join(', ')}. The row "NOTIFY_SOCKET unset" is
  what this package does besides the send (N-API, building and checking the message, \`getenv\`).

- This package \`connect()\`s its socket to the address once and then sends without naming it: an
  unconnected \`sendmsg\` (the floor row, and what libsystemd and \`sd-notify\` do) makes the kernel
  look the path up and check its permissions on every send. That is why it can beat the floor;
  the connected floor is the least any sender can do.
- The floors and the libsystemd-style sender are a small Rust program (bench/floor); the latter does
  per call what libsystemd 252's \`sd_notify()\` does (seen with strace): \`getenv\`, \`socket\`,
  \`getsockopt\`/\`setsockopt(SO_SNDBUF)\`/\`getsockopt\`/\`setsockopt(SO_SNDBUFFORCE)\`, \`sendmsg\`, \`close\`.
- \`systemd-notify\` runs with \`--no-block\` (no barrier wait); under a real manager it would also need
  \`NotifyAccess=all\`. Datagrams sent: ${r.sent}, received by the drainer: ${r.received}.`
}

function renderJournal(r) {
  if (r.unavailable) return `## 2. One journal entry from JavaScript\n\n**Not measured**: ${r.unavailable}`
  const rows = r.table.map((row) => [row.label, `${time(row.ns)} (${ratio(row.ratio)})${row.errors ? ` ⚠ ${row.errors} errors: ${row.firstError}` : ''}`, row.calls])
  const goals = [
    `- Within ${GOAL_JOURNAL_FLOOR}× of the floor: ${ratio(r.oursOverFloor)} → ${verdict(r.oursOverFloor <= GOAL_JOURNAL_FLOOR)}.`,
    `- Against the connected floor (this package's socket is connected, as in part 1): ${ratio(r.oursOverConnectedFloor)}.`,
    r.oursOverSdNotify === null
      ? "- At most a third of `sd-notify`'s `journalPrint`: **not measured** (the package could not be built, see above)."
      : `- At most a third of \`sd-notify\`'s \`journalPrint\`: ${ratio(r.oursOverSdNotify)} → ${verdict(r.oursOverSdNotify <= GOAL_SDNOTIFY)}.`,
    r.oursOverSystemdJournald === null
      ? `- At most a third of \`systemd-journald\`'s cost: **not measured** (${r.systemdJournald.reason}).`
      : `- At most a third of \`systemd-journald\`'s cost: ${ratio(r.oursOverSystemdJournald)} → ${verdict(r.oursOverSystemdJournald <= GOAL_SDNOTIFY)}.`,
    `- Against a JSON line on stdout (what most services do today, losing every field): ${ratio(r.oursOverStdout)}.`,
    `- No sender can reach a third of these native alternatives' cost: libsystemd's journal calls keep one socket open and send once, so they are within 3× of the floor, and the connected floor, which does no work at all, is ${
      r.connectedFloorOverSdNotify === null ? '–' : ratio(r.connectedFloorOverSdNotify)
    } of \`journalPrint\` and ${r.connectedFloorOverSystemdJournald === null ? '–' : ratio(r.connectedFloorOverSystemdJournald)} of \`systemd-journald\`'s cost in this run.`,
  ]
  return `## 2. One journal entry from JavaScript

Per-entry time, median over runs of the mean of a tight loop, and in brackets the ratio to the floor
measured in the same run. Every sender sends the same entry (\`MESSAGE\`, \`PRIORITY=6\`,
\`X_REQ_ID\`, \`SYSLOG_IDENTIFIER\`; 71 bytes, checked byte for byte against a \`JournalListener\`)
to one receiver bound at \`/run/systemd/journal/socket\` that drains continuously (${r.drain}: a
queue deeper than systemd's 512, so that a moment when the spinning receiver is descheduled does
not fill it). Each loop of this package's sends is checked: every entry sent by the loop's end,
none left in the slow-journal queue or dropped (a row would show ⚠ otherwise); what happens when
journald does fall behind is tested, not timed (README, "When journald is slow").

${table(['sender', 'per entry', 'N x runs'], rows)}

Goals, as the median of the ratios of back-to-back runs:
${goals.join('\n')}

### pino: what a record costs the event loop

pino in a child process logging ${r.pino.n} records of \`{ reqId, msg }\` (median of runs): the main
thread's time per record while logging, and the time per record until all were written out.

${table(
    ['pino writing to', 'event loop per record', 'until written, per record'],
    r.pino.rows.map((p) => [
      { stdout: 'stdout: its JSON lines to a pipe (what journald collects as text)', destination: '`sd-notify-rs/pino` in-process: one journal entry per record', transport: '`sd-notify-rs/pino` via `pino.transport()` (worker thread)' }[p.kind],
      p.error ? `⚠ ${p.error}` : time(p.loop),
      p.error ? '–' : time(p.total),
    ]),
  )}

Goal: no slower than stdout per record on the event loop: the worker transport ${ratio(r.pino.rows[2].loop / r.pino.rows[0].loop)} of stdout
→ ${verdict(r.pino.rows[2].loop <= r.pino.rows[0].loop)}; in-process ${ratio(r.pino.rows[1].loop / r.pino.rows[0].loop)}. With the journal every
field stays searchable (\`journalctl REQ_ID=abc123\`); on stdout the record is one \`MESSAGE\` of JSON text.
The receiver here is the bench's drainer, not journald: entries per second reaching a real journald
are bounded by journald itself, the same for every sender.`
}

function renderLoggers(r) {
  if (r.unavailable) return `### pino into a real journald\n\n**Not measured**: ${r.unavailable}`
  const label = { stdout: 'pino JSON lines on stdout, collected by journald', transport: '`sd-notify-rs/pino` via `pino.transport()` (native entries)', devnull: "`pino.destination('/dev/null')` (the event loop's floor, nothing journalled)" }
  const [stdout, ours, devnull] = r.rows
  return `### pino into a real journald

${r.n} records of \`{ runId, seq, reqId, msg }\` logged as fast as pino goes, by a unit of the private
systemd ${r.version} (journald's rate limit off: \`LogRateLimitIntervalSec=0\`); the time runs from the
start of the unit until all ${r.n} are in the journal (\`journalctl\`), median of ${r.rounds} runs.

${table(
    ['pino writing to', 'entries/s reaching the journal', 'until all are in', 'event loop per record', 'all arrived'],
    r.rows.map((x) => (x.kind === 'devnull' ? [label[x.kind], '–', '–', `${fix(x.loopUs)} µs`, '–'] : [label[x.kind], Math.round(x.perSecond).toLocaleString('en'), time(x.ms * 1e6), `${fix(x.loopUs)} µs`, x.complete ? 'yes' : `**no** (${x.lost} lost)`])),
  )}

Throughput into the journal: ${ratio(ours.perSecond / stdout.perSecond)} of stdout's, with every field searchable
(\`journalctl REQ_ID=abc123\`) instead of one JSON \`MESSAGE\`. On the event loop: ${ratio(ours.loopUs / stdout.loopUs)} of stdout's cost per record, ${ratio(ours.loopUs / devnull.loopUs)} of \`pino.destination('/dev/null')\`'s.`
}

function renderInstructions(r) {
  if (r.unavailable) return `### Instructions per call\n\n**Not measured**: ${r.unavailable}`
  const base = r.rows[0].counts
  const cell = (c, b) => (!Number.isFinite(c) ? '–' : Number.isFinite(b) ? `${Math.round(c)} (${ratio(c / b)})` : `${Math.round(c)}`)
  const rows = r.rows.map((x) => [x.label, ...x.counts.map((c, i) => cell(c, base[i]))])
  return `### Instructions per call (deterministic)

User-space instructions per call counted by valgrind's callgrind (${r.calls} calls), from Node's
N-API trampoline down: the addon, and what it calls in libc and N-API. V8's side of the call and
the kernel's side of \`sendmsg\` are not counted (the same for both rows). \`journalSend(entry)\` is the
native half of \`journal.send()\`: checking and sending the field lines the JavaScript half built.

${table(['addon', ...r.ops.map((o) => `\`${o}\``)], rows)}`
}

function renderStartup(r) {
  const rows = r.rows.map((x) => [
    x.label,
    `${fix(x.wallMs, 1)} ms`,
    ratio(x.wallRatio),
    x.key === 'bare' ? '–' : `${fix(x.requireMs, 2)} ms`,
    x.key === 'bare' ? '–' : `${fix(x.requireCpuMs, 2)} ms`,
    x.key === 'bare' ? '–' : `${fix(x.rssMiB, 1)} MiB`,
    x.key === 'bare' || x.key === 'none' ? '–' : `+${fix(x.addedRssMiB, 2)} MiB`,
    x.key === 'bare' || x.key === 'none' ? '–' : `+${fix(x.addedRssCalledMiB, 2)} MiB`,
  ])
  const ours = r.rows.find((x) => x.key === 'ours')
  const theirs = r.rows.find((x) => x.key === 'sdNotify')
  // Two verdicts: the time of require(), and the memory a running service holds, which is the RSS
  // after the first ready() (require() loads no native code, so its own RSS says little).
  const goal = theirs
    ? `Goals, at or below \`sd-notify\`: \`require()\` ${ratio(ours.requireMs / theirs.requireMs)} of its time (${ratio(ours.requireCpuMs / theirs.requireCpuMs)} of its CPU time) → ${verdict(
        ours.requireMs <= theirs.requireMs,
      )}; RSS added ${ratio(ours.addedRssMiB / theirs.addedRssMiB)} of its at \`require()\`, ${ratio(ours.addedRssCalledMiB / theirs.addedRssCalledMiB)} after the first \`ready()\` → ${verdict(
        ours.addedRssCalledMiB <= theirs.addedRssCalledMiB,
      )} (bench/NOTES.md: what that RSS is made of).`
    : 'Goal, at or below `sd-notify`: **not measured** (the package could not be built, see above).'
  return `## 3. Loading the module

Fresh \`node\` processes, ${r.rounds} of each, interleaved; medians. Wall time is the whole process
(spawn to exit) against \`node -e 0\`; \`require()\` is timed inside the child (wall and CPU time), and
RSS is read right after it and again after the first \`ready()\` (not sent: \`NOTIFY_SOCKET\` empty).
"RSS added" is against the same measuring script without the require.

${table(['process', 'wall time', 'vs `node -e 0`', '`require()`', '`require()` CPU', 'RSS', 'RSS added', 'RSS added after `ready()`'], rows)}

${goal}`
}

function renderWatchdog(r) {
  const rows = r.rows.map((x) =>
    x.unavailable
      ? [x.label, x.unavailable, '', '', '', '', '', '']
      : [
          x.label,
          fix(x.threads, 0),
          (x.addedThreads > 0 ? '+' : '') + fix(x.addedThreads, 0),
          fix(x.cpuMsPerMin, 2),
          fix(x.cpuTicksMsPerMin, 0),
          fix(x.wakeupsPerMin, 0),
          fix(x.mainWakeupsPerMin, 0),
          fix(x.pingsPerMin, 0),
        ],
  )
  return `## 4. The watchdog's idle cost

Idle processes pinging every 500 ms (WATCHDOG_USEC=1 s) into a draining receiver, all running at
the same time. ${r.windows} windows of ${r.windowMs / 1000} s, medians, **extrapolated to a minute**.
CPU from \`/proc/PID/task/*/schedstat\` (ns on CPU) and, coarser, \`utime+stime\` of \`/proc/PID/stat\`
(10 ms ticks); wake-ups are voluntary + involuntary context switches of all the process's threads;
threads are the entries of \`/proc/PID/task\` (added: against idle \`node\`).

${table(['process', 'threads', 'added', 'CPU ms/min', 'CPU ms/min (ticks)', 'wake-ups/min', 'of which main thread', 'pings/min'], rows)}`
}

function renderRestart(r) {
  if (r.unavailable) return `## 5. Restart-to-ready under a real systemd\n\n**Not measured**: ${r.unavailable}`
  const rows = r.rows.map((x) => [
    x.label,
    `${fix(x.restartMs, 1)} ms`,
    ratio(x.ratio),
    `${fix(x.failedMedian, 0)} (max ${x.failedMax}, in ${x.failedRounds}/${r.rounds} restarts)`,
    `${fix(x.firstOkMs, 1)} ms`,
    `${fix(x.servingMs, 1)} ms`,
  ])
  return `## 5. Restart-to-ready under a real systemd

\`systemctl restart\` of a small Node HTTP service (bench/e2e/http-service.js) under systemd ${r.systemd}
booted by the e2e harness in private namespaces (${r.mode} mode), ${r.rounds} restarts each,
interleaved; medians. Right after \`systemctl restart\` returns, the probe (inside the namespace,
loopback only) sends requests one after the other until one succeeds (at most 2000 or 5 s).

${table(['service', '`systemctl restart` returns', 'vs ours', 'requests failed after it returned', 'first OK after return', 'restart to serving'], rows)}

With \`Type=notify\` the restart returns once the port is open, so nothing fails; \`Type=simple\`
returns sooner, before the port is open, and the requests sent then fail.`
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const started = Date.now()
  common.buildFloor()
  const sdNotify = common.installSdNotify()
  if (!sdNotify.path) common.log(`sd-notify (npm) will NOT be measured: ${sdNotify.reason}`)
  const systemdJournald = opts.only.includes('journal') ? common.installSystemdJournald() : { reason: 'not asked for' }
  if (!systemdJournald.path) common.log(`systemd-journald (npm) will NOT be measured: ${systemdJournald.reason}`)
  const python = common.findPython()
  const machine = common.machineInfo()
  const q = opts.quick
  const loadStart = os.loadavg()[0]
  const sections = []

  if (opts.only.includes('percall')) {
    sections.push(renderPercall(await require('./percall').run({ sdNotify, python, rounds: q ? 5 : 21, spawnRounds: q ? 2 : 5, n: q ? 5000 : 20000 })))
  }
  if (opts.only.includes('journal')) sections.push(renderJournal(await require('./journal').run({ sdNotify, systemdJournald, rounds: q ? 5 : 15, n: q ? 5000 : 20000 })))
  if (opts.only.includes('loggers')) sections.push(renderLoggers(await require('./loggers').run({ rounds: q ? 1 : 3, n: q ? 5000 : 100_000 })))
  if (opts.only.includes('instructions')) sections.push(renderInstructions(await require('./instructions').run()))
  if (opts.only.includes('startup')) sections.push(renderStartup(await require('./startup').run({ sdNotify, rounds: q ? 5 : 20 })))
  if (opts.only.includes('watchdog')) {
    sections.push(renderWatchdog(await require('./watchdog').run({ sdNotify, windows: q ? 1 : 3, windowMs: q ? 3000 : 10_000 })))
  }
  if (opts.only.includes('restart')) sections.push(renderRestart(await require('./restart').run({ sdNotify, rounds: q ? 3 : 15 })))

  sections.unshift(renderMachine(machine, { sdNotify, python, loadStart, loadEnd: os.loadavg()[0] }))
  const notes = fs.readFileSync(path.join(__dirname, 'NOTES.md'), 'utf8').trim()
  const md = `# Benchmarks

Generated by \`npm run bench\` (bench/run.js) in ${Math.round((Date.now() - started) / 1000)} s; do not edit by hand, run it again.
The machine is a small shared VM: compare the ratios, measured side by side in one run, rather
than the absolute figures.

${sections.join('\n\n')}

${notes}
`
  process.stdout.write(md)
  if (opts.write) {
    fs.writeFileSync(path.join(common.REPO_ROOT, 'BENCHMARKS.md'), md)
    common.log('wrote BENCHMARKS.md')
  } else {
    common.log('BENCHMARKS.md not written (partial or quick run; --write forces it)')
  }
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exit(1)
})
