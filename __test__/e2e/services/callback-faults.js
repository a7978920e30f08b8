'use strict'
// The package's callbacks misbehaving: argv[2] says how. 'exit-in-health-check': the health check
// calls process.exit(0) on its third run; 'throw-in-on-error': a failing health check's onError
// throws (an uncaught exception, as documented). Either way the process must end the way Node
// ends it (exit code 0 or 1), never by a crash (SIGSEGV, SIGABRT).
const sd = require('../../..')

const mode = process.argv[2]
let runs = 0
sd.startWatchdog({
  intervalMs: 100,
  healthCheck: () => {
    runs++
    if (mode === 'exit-in-health-check' && runs === 3) process.exit(0)
    if (mode === 'throw-in-on-error') return false
    return true
  },
  onError: () => {
    if (mode === 'throw-in-on-error') throw new Error('onError threw on purpose')
  },
})
sd.ready(mode)
setInterval(() => {}, 1 << 30)
