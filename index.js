'use strict'
// Entry point: the native binding on Linux, loaded at its first use (lib/loader.js,
// nativeOnDemand), the no-op layer elsewhere. The exports are declared once, in lib/exports.js.

const native = process.platform === 'linux' ? require('./lib/loader').nativeOnDemand() : require('./lib/noop')

module.exports = require('./lib/exports').api(native)
