'use strict'
// Runs inside the private systemd's namespaces: argv = ROUNDS UNIT:PORT... For each round and
// unit, times `systemctl restart UNIT`, then sends HTTP requests to 127.0.0.1:PORT one after the
// other until one succeeds (at most 2000 requests or 5 s), counting those that fail.
// Prints one JSON line: { UNIT: [{ restartMs, failed, firstOkMs }, ...] }.
const cp = require('node:child_process')
const http = require('node:http')

const get = (port) =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve(false))
  })

async function probe(port) {
  const t0 = process.hrtime.bigint()
  let failed = 0
  for (let i = 0; i < 2000; i++) {
    if (await get(port)) return { failed, firstOkMs: Number(process.hrtime.bigint() - t0) / 1e6 }
    failed++
    if (Number(process.hrtime.bigint() - t0) > 5e9) break
  }
  return { failed, firstOkMs: NaN }
}

async function main() {
  const [rounds, ...units] = process.argv.slice(2)
  const out = {}
  for (const u of units) out[u.split(':')[0]] = []
  for (let r = 0; r < Number(rounds); r++) {
    for (const u of units) {
      const [unit, port] = u.split(':')
      const t0 = process.hrtime.bigint()
      const res = cp.spawnSync('systemctl', ['restart', unit], { encoding: 'utf8', timeout: 30_000 })
      const restartMs = Number(process.hrtime.bigint() - t0) / 1e6
      if (res.status !== 0) throw new Error(`systemctl restart ${unit}: ${res.stderr}`)
      const p = await probe(Number(port))
      out[unit].push({ restartMs, ...p })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}
main().catch((err) => {
  console.error(err.stack)
  process.exit(1)
})
