'use strict'
// Runs inside the private systemd's namespaces (its loopback): GET http://127.0.0.1:PORT/ once,
// a fresh connection, and prints {"status":..,"body":..} or {"error":CODE}.

const http = require('node:http')

const port = Number(process.argv[2])
const timeout = Number(process.argv[3] || 10_000)
const req = http.get({ host: '127.0.0.1', port, agent: false, timeout }, (res) => {
  let body = ''
  res.setEncoding('utf8').on('data', (d) => (body += d))
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })))
})
req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })))
req.on('error', (err) => console.log(JSON.stringify({ error: err.code || err.message })))
