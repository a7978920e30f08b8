'use strict'
// One line on stdout, which systemd puts in the unit's journal: how a service tells the test what
// it did (the manager's own view is read separately with `systemctl show`).
module.exports = function report(event, fields = {}) {
  process.stdout.write(`E2E ${JSON.stringify({ event, pid: process.pid, ...fields })}\n`)
}
