'use strict'
// Logs a burst tagged X_BURST=<argv[2]>, then ends the way argv[3] says, without waiting for
// journald: what arrives is what the package delivers at exit.
//   node journal-burst.js <id> <how> <count> [fields]
//   how: send-exit (journal.send, then process.exit(0)), info-natural (journal.info, then the
//   event loop empties), throw (journal.info, then an uncaught exception), worker (a Worker logs
//   them and ends, then the main thread ends), small-queue (journal.info with a queue of 100
//   entries: most are dropped), fields (one entry of each field count given, see below).
const { Worker, isMainThread, workerData } = require('node:worker_threads')
const sd = require('../../..')

function burst(id, count, send) {
  const { journal } = sd
  for (let i = 0; i < count; i++) {
    if (send) journal.send({ MESSAGE: `burst ${i}`, X_BURST: id, X_SEQ: i })
    else journal.info(`burst ${i}`, { X_BURST: id, X_SEQ: i })
  }
}

if (isMainThread) {
  // What the queue holds when the process starts to end (the exit hook sends it after this).
  process.on('exit', () => process.stdout.write(`E2E ${JSON.stringify({ event: 'exiting', stats: sd.journal.stats() })}\n`))
}

if (!isMainThread) {
  burst(workerData.id, workerData.count, false)
} else {
  const [id, how, count] = [process.argv[2], process.argv[3], Number(process.argv[4])]
  if (how === 'send-exit') {
    burst(id, count, true)
    process.exit(0)
  } else if (how === 'small-queue') {
    sd.Journal.setQueueLimits({ entries: 100 })
    burst(id, count, false)
  } else if (how === 'info-natural') {
    burst(id, count, false)
  } else if (how === 'throw') {
    burst(id, count, false)
    throw new Error('thrown after the burst')
  } else if (how === 'worker') {
    new Worker(__filename, { workerData: { id, count } }).on('exit', (code) => {
      process.stdout.write(`E2E ${JSON.stringify({ event: 'worker-ended', code })}\n`)
    })
  } else if (how === 'fields') {
    // One entry per field count in argv[4..]: X_F0..X_Fn-1 plus MESSAGE, each tagged with its count.
    for (const n of process.argv.slice(4).map(Number)) {
      const fields = { MESSAGE: `fields ${n}`, X_BURST: id, X_N: n }
      for (let i = 3; i < n; i++) fields[`X_F${i}`] = 'v'
      let result
      try {
        result = sd.journal.send(fields)
      } catch (e) {
        result = e.code
      }
      process.stdout.write(`E2E ${JSON.stringify({ event: 'fields', n, result })}\n`)
    }
  }
}
