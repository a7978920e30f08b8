'use strict'
// Part: pino logging into a real journald (the private systemd of testbed/), two ways: JSON lines
// on stdout that journald collects (the usual setup), and sd-notify-rs/pino in a worker thread
// (native entries, every field searchable). Each is a unit logging N records (100,000 by
// default) as fast as it can; the figures are how long until all N are in the journal
// (journalctl), as entries per second, with journald's rate limit off for both
// (LogRateLimitIntervalSec=0), how many are missing, and the event loop's time per record next to
// pino.destination('/dev/null')'s (a third unit, 'devnull', that writes nowhere the journal sees).

const path = require('node:path')
const { randomUUID } = require('node:crypto')
const { BENCH_DIR, median, log } = require('./common')

const LOGGER = path.join(BENCH_DIR, 'e2e', 'pino-logger.js')

async function countEntries(sd, filter) {
  const r = await sd.exec('journalctl', ['--no-pager', '-q', '-o', 'cat', '--output-fields=MESSAGE', filter])
  return r.stdout.split('\n').filter(Boolean).length
}

async function oneRun(sd, kind, n) {
  const id = randomUUID().replace(/-/g, '')
  const unit = `sdbench-pino-${kind}-${id.slice(0, 8)}`
  const started = Date.now()
  const r = await sd.run(unit, { Type: 'exec', LogRateLimitIntervalSec: 0, StandardOutput: 'journal' }, [sd.node, LOGGER, kind, String(n), id])
  if (r.code !== 0) throw new Error(`${unit}: ${r.stderr}`)
  if (kind === 'devnull') {
    const loop = await sd.waitForReport(unit, (e) => e.event === 'logged', 120_000)
    return { kind, seen: n, ms: NaN, perSecond: NaN, loopUsPerRecord: loop.loopUs }
  }
  // stdout lines carry the id inside MESSAGE; native entries carry it as RUN_ID.
  const filter = kind === 'stdout' ? `_SYSTEMD_UNIT=${unit}.service` : `RUN_ID=${id}`
  const deadline = Date.now() + 120_000
  let seen
  for (;;) {
    seen = await countEntries(sd, filter)
    if (seen >= n || Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const ms = Date.now() - started
  const loop = (await sd.reports(unit)).find((e) => e.event === 'logged')
  return { kind, seen, lost: n - seen, ms, perSecond: (seen / ms) * 1000, loopUsPerRecord: loop ? loop.loopUs : NaN }
}

async function run({ rounds = 3, n = 100_000 }) {
  let sd
  try {
    log('booting a private systemd (testbed) for the pino part')
    sd = await require('../testbed/boot').bootSystemd({ servicesDir: path.join(BENCH_DIR, 'e2e') })
  } catch (err) {
    return { unavailable: err.code === 'E2E_UNAVAILABLE' ? err.reason : `booting systemd failed: ${err.message.split('\n')[0]}` }
  }
  try {
    // journald of the private systemd does not apply a unit's LogRateLimitIntervalSec=0 (it kept
    // 35,000 of 100,000 entries: its default burst of 10,000 scaled by the free space), so its
    // own rate limit is turned off, in the private root (an overlay on a tmpfs).
    const off = await sd.exec('/bin/sh', ['-c', 'mkdir -p /etc/systemd/journald.conf.d && printf "[Journal]\\nRateLimitIntervalSec=0\\n" > /etc/systemd/journald.conf.d/sdbench.conf && systemctl restart systemd-journald'])
    if (off.code !== 0) throw new Error(`turning journald's rate limit off failed: ${off.stderr}`)
    const samples = { stdout: [], transport: [], devnull: [] }
    for (let round = 0; round < rounds; round++) {
      log(`pino into journald, round ${round + 1}/${rounds}`)
      for (const kind of ['stdout', 'transport', 'devnull']) samples[kind].push(await oneRun(sd, kind, n))
    }
    const rows = Object.entries(samples).map(([kind, runs]) => ({
      kind,
      perSecond: median(runs.map((r) => r.perSecond)),
      ms: median(runs.map((r) => r.ms)),
      loopUs: median(runs.map((r) => r.loopUsPerRecord)),
      complete: runs.every((r) => r.seen >= n),
      lost: Math.max(...runs.map((r) => r.lost ?? 0)),
    }))
    return { rows, n, rounds, version: sd.version }
  } finally {
    await sd.stop()
  }
}

module.exports = { run }
