'use strict'
// NOTIFYACCESS=all from the main process (systemd >= 254), then a child process sends READY=1:
// the unit becomes active only where the manager took the new NotifyAccess= (under the default
// NotifyAccess=main a child's notification is dropped).
const { spawn } = require('node:child_process')
const sd = require('../../..')
const report = require('./report')

if (process.argv[2] === 'child') {
  report('child-ready', { sent: sd.ready('ready from a child') })
  setInterval(() => {}, 1 << 30)
} else {
  report('notifyaccess', { sent: sd.notify({ NOTIFYACCESS: 'all' }) })
  // After the manager read it: a barrier round-trip.
  sd.barrier(5000).then(
    () => spawn(process.execPath, [__filename, 'child'], { stdio: 'inherit' }),
    (err) => report('barrier-failed', { code: err.code }),
  )
  setInterval(() => {}, 1 << 30)
}
