'use strict'
// The API on platforms without a systemd notification socket (macOS, Windows, ...): every
// notification is a no-op that reports "not sent", so the same service code runs anywhere. The
// stand-ins are declared with the exports themselves, in lib/exports.js.

module.exports = require('./exports').NATIVE
