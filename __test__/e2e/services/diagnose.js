'use strict'
// argv[2] says what to do: 'status' (one notification), 'ready-only' (ready(), no watchdog),
// 'ready-watchdog' (startWatchdog() then ready()), 'ready-catch' (ready() in try/catch, printing
// an error). Warnings go to stderr, which the unit's journal keeps. Ends after argv[3] ms.
const sd = require('../../..')

const mode = process.argv[2]
if (mode === 'status') sd.status('diagnose')
if (mode === 'ready-only') sd.ready()
if (mode === 'ready-watchdog') {
  sd.startWatchdog()
  sd.ready()
}
if (mode === 'ready-catch') {
  try {
    sd.ready()
    console.log('ready sent')
  } catch (err) {
    console.log(`ready failed: ${err.code}: ${err.message}`)
  }
}
setTimeout(() => process.exit(0), Number(process.argv[3] || 1500))
