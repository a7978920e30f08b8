'use strict'
// Logs X_SEQ=<n> to the journal every 5 ms, tagged X_RUN=<argv[2]>; SIGUSR2 reports what
// journal.stats() says (sent, queued, dropped) and the last sequence number logged. The report
// goes through the journal too: the stdout stream of this service ends with the journald it was
// connected to.
const sd = require('../../..')
const report = (event, fields) => sd.journal.send({ MESSAGE: `E2E ${JSON.stringify({ event, pid: process.pid, ...fields })}` })

const run = process.argv[2]
let seq = 0
let threw = 0
setInterval(() => {
  try {
    sd.journal.info('fault test entry', { X_RUN: run, X_SEQ: seq++ })
  } catch {
    threw++
  }
}, 5)
process.on('SIGUSR2', () => report('journal-stats', { stats: sd.journal.stats(), seq, threw }))
sd.ready()
