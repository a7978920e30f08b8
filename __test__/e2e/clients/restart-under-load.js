'use strict'
// Runs inside the private systemd's namespaces: sends HTTP requests to 127.0.0.1:PORT (CONCURRENCY
// loops, each request on a fresh connection, each loop starting one request every PACE_MS at most,
// so that a refused connection does not turn into a busy loop and the request rate stays comparable
// between runs; with KEEPALIVE `keepalive`, the loops share a keep-alive agent instead, so requests
// reuse connections across the restarts) while `systemctl restart UNIT` runs RESTARTS times, one after the other. Prints one JSON report: requests, failures by cause,
// distinct server pids seen, restart timings.
// Bounded: stops after MAX_REQUESTS requests or MAX_MS milliseconds, whichever comes first.
//
//   node restart-under-load.js PORT UNIT RESTARTS [CONCURRENCY] [MAX_REQUESTS] [MAX_MS] [PACE_MS] [KEEPALIVE]

const http = require('node:http')
const { execFile } = require('node:child_process')

const [port, unit, restarts, concurrency = 4, maxRequests = 200_000, maxMs = 60_000, paceMs = 2, keepAlive = ''] = process.argv.slice(2)
const PORT = Number(port)
const RESTARTS = Number(restarts)
const CONCURRENCY = Number(concurrency)
const MAX_REQUESTS = Number(maxRequests)
const MAX_MS = Number(maxMs)
const PACE_MS = Number(paceMs)
const REQUEST_TIMEOUT_MS = 5000
// No retry anywhere: a request that fails counts, whatever the cause.
const AGENT = keepAlive === 'keepalive' ? new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) : false

const started = Date.now()
const report = { requests: 0, ok: 0, failed: 0, failures: {}, pids: [], restarts: [], bounded: false, keepAlive: Boolean(AGENT), reused: 0 }
const pids = new Set()
let stop = false

function fail(cause) {
  report.failed++
  report.failures[cause] = (report.failures[cause] || 0) + 1
}

function once() {
  return new Promise((resolve) => {
    report.requests++
    const req = http.get({ host: '127.0.0.1', port: PORT, agent: AGENT, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      if (req.reusedSocket) report.reused++
      let body = ''
      res.setEncoding('utf8').on('data', (d) => (body += d))
      res.on('error', (err) => {
        fail(err.code || 'response error')
        resolve()
      })
      res.on('end', () => {
        if (res.statusCode === 200) {
          report.ok++
          try {
            pids.add(JSON.parse(body).pid)
          } catch {}
        } else {
          fail(`HTTP ${res.statusCode}`)
        }
        resolve()
      })
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })))
    req.on('error', (err) => {
      fail(err.code || err.message)
      resolve()
    })
  })
}

async function loadLoop() {
  while (!stop) {
    if (report.requests >= MAX_REQUESTS || Date.now() - started >= MAX_MS) {
      report.bounded = true
      break
    }
    const t0 = Date.now()
    await once()
    const left = PACE_MS - (Date.now() - t0)
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
  }
}

function systemctl(...args) {
  return new Promise((resolve) => {
    execFile('systemctl', args, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr }))
  })
}

async function main() {
  const loops = Array.from({ length: CONCURRENCY }, loadLoop)
  // Let the load run a moment before the first restart.
  await new Promise((resolve) => setTimeout(resolve, 300))
  for (let i = 0; i < RESTARTS && !report.bounded; i++) {
    const t0 = Date.now()
    const r = await systemctl('restart', unit)
    report.restarts.push({ ms: Date.now() - t0, code: r.code, ...(r.code ? { stderr: r.stderr.trim() } : {}) })
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  stop = true
  await Promise.all(loops)
  if (AGENT) AGENT.destroy()
  report.pids = [...pids]
  report.ms = Date.now() - started
  console.log(JSON.stringify(report))
}

main()
