#!/usr/bin/env node
'use strict'
// `npm run soak`: long runs that would show a leak, with RSS and the open-descriptor count sampled
// as they go. Fails when either keeps growing after warm-up; writes the figures into the "Soak"
// section of RELIABILITY.md (between its markers).
//
//   node scripts/soak.js [--quick]     --quick: a tenth of every count (to try it out)
//
// The receivers are the benchmark's drainer (bench/floor, built with cargo), which reads as fast
// as it can, so every send really happens.

const fs = require('node:fs')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { buildFloor, startDrainer, log } = require('../bench/common')

const ROOT = path.join(__dirname, '..')
const quick = process.argv.includes('--quick')
const scale = (n) => (quick ? Math.round(n / 10) : n)
const sd = require(ROOT)

const fds = () => fs.readdirSync('/proc/self/fd').length
const rssMiB = () => process.memoryUsage().rss / 1048576
const turn = () => new Promise((resolve) => setImmediate(resolve))
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  if (global.gc) global.gc()
}

/** Runs `step(i)` `total` times in `samples` slices, sampling RSS and descriptors after each. */
async function sampled(name, total, samples, step) {
  const points = []
  const per = Math.ceil(total / samples)
  const started = Date.now()
  for (let s = 0; s < samples; s++) {
    for (let i = s * per; i < Math.min(total, (s + 1) * per); i++) {
      const r = step(i)
      if (r && typeof r.then === 'function') await r
      if (i % 1000 === 0) await turn()
    }
    await settle()
    points.push({ done: Math.min(total, (s + 1) * per), rss: rssMiB(), fds: fds() })
  }
  // Warm-up is the first half: the C library's malloc arenas (one per thread that allocated) and
  // V8's heap settle there; after it RSS may wander by allocator noise, not climb.
  const warm = points[Math.floor(samples / 2) - 1]
  const last = points[points.length - 1]
  const result = {
    name,
    total,
    seconds: (Date.now() - started) / 1000,
    rssAfterWarmUp: warm.rss,
    rssEnd: last.rss,
    rssGrowth: last.rss - warm.rss,
    fdsAfterWarmUp: warm.fds,
    fdsEnd: last.fds,
  }
  log(`${name}: ${JSON.stringify(result)}`)
  return result
}

function workerRound(count, address) {
  // Each worker loads the addon, notifies in a loop; every fourth is terminated mid-call.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    process.env.NOTIFY_SOCKET = workerData.address // a Worker's process.env is its own copy
    const sd = require(workerData.root)
    const n = workerData.kill ? 1e9 : 200
    parentPort.postMessage('loaded')
    for (let i = 0; i < n; i++) sd.status('worker ' + i)
  `
  let crashed = 0
  const one = (i) =>
    new Promise((resolve) => {
      const w = new Worker(code, { eval: true, workerData: { address, root: ROOT, kill: i % 4 === 0 } })
      w.once('message', () => {
        if (i % 4 === 0) setTimeout(() => w.terminate(), 2)
      })
      w.once('error', () => crashed++)
      w.once('exit', resolve)
    })
  return { one, crashed: () => crashed }
}

async function main() {
  buildFloor()
  const results = []
  const notifyDrain = await startDrainer({ mode: 'block' })
  process.env.NOTIFY_SOCKET = notifyDrain.address
  results.push(await sampled('notifications (`status()`)', scale(10_000_000), 10, (i) => sd.status(i % 2 ? 'a' : 'b')))

  const journalDrain = await startDrainer({ mode: 'block' })
  const journal = new sd.Journal({ socket: journalDrain.address, identifier: 'soak' })
  // Paced by flush() every 1,000 entries: this run looks for leaks, not for the drop policy
  // (which __test__/journal.test.js proves), so the receiver must keep up.
  results.push(
    await sampled('journal entries (`journal.info()` with 2 fields)', scale(1_000_000), 10, (i) => {
      journal.info('soak entry', { X_SEQ: i, X_TAG: 'soak' })
      if (i % 1000 === 999) return journal.flush(10_000)
    }),
  )
  await journal.flush(10_000)
  const js = journal.stats()
  results[results.length - 1].journal = { sent: js.sent, dropped: js.dropped, failed: js.failed }

  const workers = workerRound(scale(1000), notifyDrain.address)
  results.push(await sampled('Worker threads (load, notify, exit; every 4th terminated mid-call)', scale(1000), 10, (i) => workers.one(i)))
  results[results.length - 1].workerErrors = workers.crashed()

  process.env.WATCHDOG_USEC = '2000000'
  results.push(
    await sampled('`startWatchdog()` / `stop()` cycles', scale(10_000), 10, async (i) => {
      const w = sd.startWatchdog()
      w.stop()
      if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    }),
  )
  delete process.env.WATCHDOG_USEC

  results.push(
    await sampled('`NotifyListener`s opened and closed', scale(10_000), 10, () => {
      new sd.NotifyListener().close()
    }),
  )
  await notifyDrain.close()
  await journalDrain.close()

  const failures = results.filter((r) => r.fdsEnd > r.fdsAfterWarmUp + 2 || r.rssGrowth > 8 || r.workerErrors || r.journal?.dropped || r.journal?.failed)
  write(results)
  if (failures.length) {
    console.error(`soak FAILED: ${failures.map((f) => f.name).join('; ')}`)
    process.exit(1)
  }
  console.log('soak passed: RSS and descriptors flat after warm-up')
}

function write(results) {
  const file = path.join(ROOT, 'RELIABILITY.md')
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.total.toLocaleString('en')} | ${r.seconds.toFixed(1)} s | ${r.rssAfterWarmUp.toFixed(1)} → ${r.rssEnd.toFixed(1)} MiB (${r.rssGrowth >= 0 ? '+' : ''}${r.rssGrowth.toFixed(1)}) | ${r.fdsAfterWarmUp} → ${r.fdsEnd} |`,
  )
  const extra = results
    .filter((r) => r.journal || r.workerErrors !== undefined)
    .map((r) => (r.journal ? `- journal: ${r.journal.sent} sent, ${r.journal.dropped} dropped, ${r.journal.failed} failed.` : `- Worker errors: ${r.workerErrors}.`))
  const section = `<!-- soak:start -->
Measured by \`npm run soak\`${quick ? ' --quick (a tenth of every count)' : ''} on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}. RSS and open descriptors
are sampled ten times per run, after the event loop turned; "after warm-up" is the fifth sample
(halfway: the C library's per-thread malloc arenas fill up to then, and stay).
The run fails when descriptors grow by more than 2 or RSS by more than 8 MiB after warm-up.

| run | count | time | RSS after warm-up → end | descriptors after warm-up → end |
| --- | ---: | ---: | --- | --- |
${rows.join('\n')}

${extra.join('\n')}
<!-- soak:end -->`
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const updated = text.includes('<!-- soak:start -->') ? text.replace(/<!-- soak:start -->[^]*<!-- soak:end -->/, section) : `${text}\n## Soak\n\n${section}\n`
  fs.writeFileSync(file, updated)
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exit(1)
})
