'use strict'
// ready(), argv[3] status() updates (default 200) in a burst, then `await barrier()`, then reads
// the manager's StatusText for unit argv[2] itself: it must already be the last update.
const { execFileSync } = require('node:child_process')
const sd = require('../../..')
const report = require('./report')

const unit = process.argv[2]
const count = Number(process.argv[3] || 200)
setInterval(() => {}, 1 << 30)

async function main() {
  sd.ready('burst follows')
  let last
  for (let i = 1; i <= count; i++) {
    last = `update ${i} of ${count}`
    if (!sd.status(last)) throw new Error(`status() not sent at update ${i}`)
  }
  const processed = await sd.barrier(5000)
  const observed = execFileSync('systemctl', ['show', '-p', 'StatusText', '--value', unit], {
    encoding: 'utf8',
  }).replace(/\n$/, '')
  report('barrier', { processed, expected: last, observed })
}
main().catch((err) => {
  report('error', { message: String(err && err.stack) })
  process.exit(1)
})
