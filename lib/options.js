'use strict'
// Options objects are read through here: own enumerable properties only, so that
// `Object.prototype.exit = ...` (prototype pollution anywhere in a dependency tree) changes
// nothing this package does.

/**
 * A null-prototype copy of `options`' own enumerable properties: destructuring it reads nothing
 * inherited. `undefined` gives an empty object; anything but an object is the caller's to refuse.
 */
function ownOptions(options) {
  const out = Object.create(null)
  if (options !== null && typeof options === 'object') {
    for (const key of Object.keys(options)) out[key] = options[key]
  }
  return out
}

/** `obj[key]` when `obj` has it as its own property, else undefined. */
const own = (obj, key) => (obj !== null && typeof obj === 'object' && Object.hasOwn(obj, key) ? obj[key] : undefined)

module.exports = { ownOptions, own }
