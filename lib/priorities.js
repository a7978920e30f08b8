'use strict'
// The syslog priorities by level name: the one table. lib/journal.js (and through it the
// transports' level tables, integrations/fields.js) and the sd-notify compatibility layer derive
// theirs from it. A file of its own so that loading it loads nothing else.

/** syslog priorities by level name, as journald and `journalctl -p` know them. */
const PRIORITIES = Object.freeze({
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  error: 3,
  warning: 4,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
})

module.exports = { PRIORITIES }
