'use strict'
// napi-rs refuses an argument of the wrong type before the addon's own code runs, and throws
// with its own status as `code` (`NumberExpected`, `StringExpected`, ...): codes of no registry,
// which a user cannot rely on. Here the binding's generated functions and the NotifyListener
// class are wrapped so that such a refusal becomes ERR_SD_NOTIFY_INVALID_NUMBER (a number was
// expected) or ERR_SD_NOTIFY_INVALID_VALUE (anything else), with napi-rs's error as its `cause`;
// a function that returns a promise rejects it instead of throwing, like its other refusals.
// The notification functions are raw N-API entries that word their own errors (fast.rs): not
// wrapped, so their calls pay nothing for this.

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

/** `err` with a registered code when it is napi-rs's refusal of an argument; else `err` itself. */
function recoded(err, what) {
  if (err === null || typeof err !== 'object' || !CONVERSION_STATUSES.has(err.code)) return err
  const code = err.code === 'NumberExpected' || err.code === 'BigintExpected' ? 'ERR_SD_NOTIFY_INVALID_NUMBER' : 'ERR_SD_NOTIFY_INVALID_VALUE'
  return codedError(code, `${what}: ${err.message}`, { cause: err, ErrorClass: TypeError })
}

/** The binding's generated functions taking arguments, and whether each returns a promise. */
const FUNCTIONS = { notify: false, barrier: true, fdStore: false, fdStoreRemove: false, listenFds: false, journalFlush: true }

/** NotifyListener's methods taking arguments, and whether each returns a promise. */
const METHODS = { receive: true, receiveJournal: true, closeFds: false }

function wrap(fn, what, promise) {
  return function coded(...args) {
    try {
      return fn.apply(this, args)
    } catch (err) {
      const e = recoded(err, what)
      if (promise && e !== err) return Promise.reject(e)
      throw e
    }
  }
}

/** `native` with its argument refusals coded (see above); everything else is `native`'s own. */
function codedBinding(native) {
  const out = Object.create(native)
  for (const [name, promise] of Object.entries(FUNCTIONS)) {
    if (typeof native[name] === 'function') out[name] = wrap(native[name], `${name}()`, promise)
  }
  if (typeof native.notify === 'function') {
    // null reaches napi-rs's object conversion as a TypeError of V8's own, without a code.
    const notify = out.notify
    out.notify = function (fields, options) {
      if (fields === null || typeof fields !== 'object') {
        throw codedError('ERR_SD_NOTIFY_INVALID_VALUE', 'notify(fields): fields must be an object of KEY: value', { ErrorClass: TypeError })
      }
      return options === undefined ? notify(fields) : notify(fields, options)
    }
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
          throw recoded(err, `new ${new.target.name}()`)
        }
      }
    }
    for (const [name, promise] of Object.entries(METHODS)) {
      if (typeof Base.prototype[name] === 'function') {
        Object.defineProperty(NotifyListener.prototype, name, {
          value: wrap(Base.prototype[name], `NotifyListener#${name}()`, promise),
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
