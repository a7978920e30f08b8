'use strict'
// Starts a long-running child, says ready(), hands the main pid over to the child with
// mainPid(), waits until the manager has processed that (barrier), and exits.
const { spawn } = require('node:child_process')
const sd = require('../../..')
const report = require('./report')

async function main() {
  const child = spawn('/bin/sleep', ['infinity'], { stdio: 'ignore' })
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject))
  child.unref()
  const readySent = sd.ready(`handing over to ${child.pid}`)
  const mainPidSent = sd.mainPid(child.pid)
  const processed = await sd.barrier(5000)
  report('handed-over', { child: child.pid, readySent, mainPidSent, processed })
}
main().catch((err) => {
  report('error', { message: String(err && err.stack) })
  process.exit(1)
})
