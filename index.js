'use strict'
// Entry point: the native binding on Linux, the no-op layer elsewhere. The exports are declared
// once, in lib/exports.js.

const native = process.platform === 'linux' ? require('./lib/loader').loadNative() : require('./lib/noop')

module.exports = require('./lib/exports').api(native)
