'use strict'
// One rule for an argument of the wrong type, in every function: a TypeError whose `code` is
// ERR_SD_NOTIFY_INVALID_NUMBER (a number was expected) or ERR_SD_NOTIFY_INVALID_VALUE (anything
// else), and whose message names the function and the argument (`ready(status) must be ...`).
// The binding's own functions read their arguments by that rule (src/binding/args.rs). napi-rs
// refuses the arguments of the others (the listener's class, journalFlush) before the addon's code
// runs, with its own status as `code` (`NumberExpected`, ...) and Rust type names in the message:
// those are wrapped here and given the same form; a function that returns a promise rejects it
// instead of throwing, like its other refusals. Nothing else is wrapped, so the notification
// functions pay nothing for this.

const { codedError } = require('./errors')

/** napi::Status names napi-rs uses as `code` when it cannot convert an argument. */
const CONVERSION_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
])

/** `a number`, `a string`, `null`, ... for messages (the type only: never the value). */
function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  const type = typeof value
  return type === 'undefined' ? 'undefined' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`
}

/**
 * `err` in the form above when it is napi-rs's refusal of an argument; else `err` itself. `arg`
 * is the argument's name and what it must be; `value` what was passed.
 */
function recoded(err, what, [name, expected], value) {
  if (err === null || typeof err !== 'object' || !CONVERSION_STATUSES.has(err.code)) return err
  const code = err.code === 'NumberExpected' || err.code === 'BigintExpected' ? 'ERR_SD_NOTIFY_INVALID_NUMBER' : 'ERR_SD_NOTIFY_INVALID_VALUE'
  return codedError(code, `${what}(${name}) must be ${expected}; got ${describe(value)}`, { ErrorClass: TypeError })
}

const TIMEOUT = ['timeoutMs', 'a number, undefined or null']

/**
 * The binding's functions napi-rs converts the argument of: whether each returns a promise, its
 * argument, and the name the user called it by.
 */
const FUNCTIONS = { journalFlush: [true, TIMEOUT, 'Journal#flush'] }

/** NotifyListener's methods napi-rs converts the argument of, likewise. */
const METHODS = { receive: [true, TIMEOUT], receiveJournal: [true, TIMEOUT], closeFds: [false, ['fds', 'an array of descriptor numbers']] }

function wrap(fn, what, [promise, arg]) {
  return function coded(...args) {
    try {
      return fn.apply(this, args)
    } catch (err) {
      const e = recoded(err, what, arg, args[0])
      if (promise && e !== err) return Promise.reject(e)
      throw e
    }
  }
}

/** `native` with its argument refusals coded (see above); everything else is `native`'s own. */
function codedBinding(native) {
  const out = Object.create(native)
  for (const [name, how] of Object.entries(FUNCTIONS)) {
    if (typeof native[name] === 'function') out[name] = wrap(native[name], how[2], how)
  }
  // (The no-op layer's stand-in throws ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM itself.)
  if (typeof native.Watchdog === 'function' && typeof native.Watchdog.prototype?.stop === 'function') {
    // startWatchdog() makes the watchdogs; `instanceof Watchdog` still recognises them.
    const Watchdog = function Watchdog() {
      throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'Watchdog cannot be constructed: startWatchdog() returns the process\'s watchdog')
    }
    Watchdog.prototype = native.Watchdog.prototype
    out.Watchdog = Watchdog
  }
  const Base = native.NotifyListener
  if (typeof Base === 'function' && Base.prototype && typeof Base.prototype.receive === 'function') {
    // new.target.name: JournalListener, which extends this class, names itself.
    const NotifyListener = class NotifyListener extends Base {
      constructor(...args) {
        try {
          super(...args)
        } catch (err) {
          throw recoded(err, `new ${new.target.name}`, ['address', 'a string, undefined or null'], args[0])
        }
      }
    }
    for (const [name, how] of Object.entries(METHODS)) {
      if (typeof Base.prototype[name] === 'function') {
        Object.defineProperty(NotifyListener.prototype, name, {
          value: wrap(Base.prototype[name], `NotifyListener#${name}`, how),
          writable: true,
          configurable: true,
        })
      }
    }
    out.NotifyListener = NotifyListener
  }
  return out
}

module.exports = { codedBinding }
