'use strict'
// The public surface of require('sd-notify-rs'), declared once. To add an export:
// - a native function or class: add it to NATIVE with what it is outside Linux;
// - a JavaScript one: add it to JAVASCRIPT, built over the native binding (or the no-op layer).
// Everything else follows: index.js exports api(native), the no-op layer is NATIVE, index.mjs is
// generated from the names by `npm run build` (scripts/esm-entry.js), and __test__/exports.test.js
// fails until index.mjs, the no-op layer and index.d.ts agree with this file.

const notSent = () => false

/** A class that cannot exist on this platform: constructing it throws. */
function unsupported(name) {
  const Unsupported = class {
    constructor() {
      // new.target: a subclass (JournalListener extends NotifyListener) names itself.
      // lib/errors.js only now, as in lib/loader.js: require() does not load it.
      throw require('./errors').codedError('ERR_SD_NOTIFY_UNSUPPORTED_PLATFORM', `sd-notify-rs: ${new.target.name} needs Linux (AF_UNIX datagram sockets with SO_PASSCRED)`)
    }
  }
  Object.defineProperty(Unsupported, 'name', { value: name })
  return Unsupported
}

/** The native binding's public functions and classes, each with its stand-in outside Linux. */
const NATIVE = {
  ready: notSent,
  reloading: notSent,
  stopping: notSent,
  status: notSent,
  watchdog: notSent,
  watchdogTrigger: notSent,
  setWatchdogTimeout: notSent,
  extendTimeout: notSent,
  mainPid: notSent,
  errno: notSent,
  busError: notSent,
  notify: notSent,
  barrier: async () => false,
  available: notSent,
  watchdogEnabled: () => null,
  Watchdog: unsupported('Watchdog'),
  booted: notSent,
  // The native listenFds(); the export is lib/listen.js's, over it (see JAVASCRIPT).
  listenFds: () => [],
  fdStore: notSent,
  fdStoreRemove: notSent,
  NotifyListener: unsupported('NotifyListener'),
}

/**
 * The exports written in JavaScript, each built over `native` (the binding or NATIVE) at its first
 * use, so require('sd-notify-rs') loads only what a program touches. `api` is the exports object
 * (whose notification functions lib/diagnostics.js has wrapped), `diagnostics` what it tracks.
 */
const JAVASCRIPT = {
  startWatchdog: (native, api, diagnostics) => diagnostics.watched(require('./watchdog').startWatchdogFor(native)),
  listenFds: (native) => listenParts(native).listenFds,
  listen: (native) => listenParts(native).listen,
  listenInfo: (native) => listenParts(native).listenInfo,
  journal: (native) => journalParts(native).journal,
  Journal: (native) => journalParts(native).Journal,
  JournalListener: (native) => journalParts(native).JournalListener,
  onReload: (native, api, diagnostics) => require('./reload').bindReload(native, diagnostics).onReload,
  drainOnStop: (native) => require('./drain').bindDrain(native).drainOnStop,
  clusterPrimary: (native, api) => require('./cluster').bindPrimary(native, api).clusterPrimary,
}

// listen and journal each build several exports at once: built once per binding.
const built = new WeakMap()
function once(native, key, build) {
  const parts = built.get(native) ?? {}
  built.set(native, parts)
  return (parts[key] ??= build())
}
const listenParts = (native) => once(native, 'listen', () => require('./listen').bindListen(native))
const journalParts = (native) => once(native, 'journal', () => require('./journal').bindJournal(native))

/** `obj[name]`, computed by `build()` at its first read and a plain value from then on. */
function lazy(obj, name, build) {
  Object.defineProperty(obj, name, {
    enumerable: true,
    configurable: true,
    get() {
      const value = build()
      Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true })
      return value
    },
  })
}

/**
 * The public API over `binding`: the binding itself, or a function that returns it, loading it at
 * the first call of one of its functions (lib/loader.js, nativeOnDemand). Its classes and the
 * JavaScript exports see it through lib/coded.js (argument refusals of napi-rs's conversions given
 * the package's form), loaded at the first use of one of them: the notification functions read
 * their own arguments and need it not.
 */
function api(binding) {
  const load = typeof binding === 'function' ? binding : () => binding
  const coded = () => once(load, 'coded', () => require('./coded').codedBinding(load()))
  const out = {}
  for (const name of Object.keys(NATIVE)) {
    if (/^[A-Z]/.test(name)) {
      lazy(out, name, () => coded()[name])
    } else {
      // Two fixed parameters, no rest/apply: no native function takes more, and the notification
      // functions are on the hot path.
      let fn = null
      out[name] = function (a, b) {
        return (fn ??= load()[name])(a, b)
      }
      Object.defineProperty(out[name], 'name', { value: name })
    }
  }
  // (available() and watchdogEnabled(), which it asks, are the ones above: not wrapped by it.)
  const diagnostics = require('./diagnostics').withDiagnostics(out, out)
  for (const [name, build] of Object.entries(JAVASCRIPT)) lazy(out, name, () => build(coded(), out, diagnostics))
  return out
}

/** Every export's name. */
const NAMES = [...new Set([...Object.keys(NATIVE), ...Object.keys(JAVASCRIPT)])]

module.exports = { NATIVE, JAVASCRIPT, NAMES, api }
