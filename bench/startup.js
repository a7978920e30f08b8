'use strict'
// Part 3: what loading the module costs: fresh `node` processes, repeated and interleaved.
// Wall time of the whole process against `node -e 0`; inside the child, the time of the
// require() call itself (wall and CPU: on a loaded machine the CPU time is the steadier figure),
// the resident set size (RSS) right after it, and the RSS after the first notification (`ready()`,
// not sent: NOTIFY_SOCKET is empty), which is what a service holds once it runs.

const cp = require('node:child_process')
const { REPO_ROOT, median, log } = require('./common')

// process.argv[1] is the module to load ('' for none). Prints {ns, cpuUs, rss, rssCalled} on stdout.
const CHILD = `const m = process.argv[1]
const c0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
const api = m ? require(m) : null
const ns = Number(process.hrtime.bigint() - t0)
const c1 = process.cpuUsage(c0)
const rss = process.memoryUsage.rss()
if (api) api.ready()
process.stdout.write(JSON.stringify({ ns, cpuUs: c1.user + c1.system, rss, rssCalled: process.memoryUsage.rss() }))`

function once(args) {
  const t0 = process.hrtime.bigint()
  const r = cp.spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: '' } })
  const wallNs = Number(process.hrtime.bigint() - t0)
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`)
  return { wallNs, ...(r.stdout ? JSON.parse(r.stdout) : {}) }
}

async function run({ sdNotify, rounds = 20 }) {
  const variants = [
    { key: 'bare', label: '`node -e 0`', args: ['-e', '0'] },
    { key: 'none', label: '`node -e` measuring script, no require', args: ['-e', CHILD, ''] },
    { key: 'ours', label: "**`require('sd-notify-rs')`**", args: ['-e', CHILD, REPO_ROOT] },
  ]
  if (sdNotify.path) variants.push({ key: 'sdNotify', label: `\`require('sd-notify')\` ${sdNotify.version}`, args: ['-e', CHILD, sdNotify.path] })
  for (const v of variants) {
    once(v.args) // warm the page cache
    v.samples = []
  }
  for (let i = 0; i < rounds; i++) {
    if (i % 5 === 0) log(`startup round ${i + 1}/${rounds}`)
    for (const v of variants) v.samples.push(once(v.args))
  }
  const bare = median(variants[0].samples.map((s) => s.wallNs))
  const rssNone = median(variants[1].samples.map((s) => s.rss))
  const rssCalledNone = median(variants[1].samples.map((s) => s.rssCalled))
  return {
    rounds,
    rows: variants.map((v) => {
      const wall = median(v.samples.map((s) => s.wallNs))
      const rss = v.key === 'bare' ? NaN : median(v.samples.map((s) => s.rss))
      return {
        key: v.key,
        label: v.label,
        wallMs: wall / 1e6,
        wallRatio: wall / bare,
        requireMs: v.key === 'bare' ? NaN : median(v.samples.map((s) => s.ns)) / 1e6,
        requireCpuMs: v.key === 'bare' ? NaN : median(v.samples.map((s) => s.cpuUs)) / 1e3,
        rssMiB: rss / 2 ** 20,
        addedRssMiB: (rss - rssNone) / 2 ** 20,
        addedRssCalledMiB: v.key === 'bare' ? NaN : (median(v.samples.map((s) => s.rssCalled)) - rssCalledNone) / 2 ** 20,
      }
    }),
  }
}

module.exports = { run }
