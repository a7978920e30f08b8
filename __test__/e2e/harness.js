'use strict'
// The e2e tests' side of testbed/ (the private systemd every e2e test, the demo and the
// benchmarks boot): node:test hooks that boot one systemd per test file and skip loudly where
// that cannot be done. See testbed/boot.js for what the handle offers, testbed/README.md for the
// options. SD_NOTIFY_RS_SYSTEMD=bullseye|trixie runs a file against that Debian root's systemd
// (247, 257) instead of the host's (`sd.version` says which; tests that need a newer one skip).

const path = require('node:path')
const { bootSystemd, E2EUnavailableError, BOOT_TIMEOUT_MS } = require('../../testbed/boot')
const { NODE, REPO_ROOT } = require('../../testbed/manager')
const { processesInNamespace, pidNamespaceOf } = require('../../testbed/proc')
const { sleep } = require('../../testbed/util')

const SERVICES_DIR = path.join(__dirname, 'services')

const unavailableBanner = new Set()

/**
 * Registers before/after hooks that boot one systemd for the calling test file and stop it.
 * Returns { orSkip(t) }: the systemd handle, or null after skipping t loudly when e2e is
 * unavailable here. With CI=true unavailability fails instead: the before hook throws.
 */
function useSystemd(options = {}) {
  const { before, after } = require('node:test')
  const state = { sd: null, unavailable: null }
  before(async () => {
    try {
      state.sd = await bootSystemd({ servicesDir: SERVICES_DIR, ...options })
    } catch (err) {
      if (err.code !== 'E2E_UNAVAILABLE') throw err
      if (process.env.CI === 'true') {
        err.message += ' (CI=true: the end-to-end tests must run in CI, so this is a failure)'
        throw err
      }
      state.unavailable = err
    }
  }, { timeout: BOOT_TIMEOUT_MS + 20_000 })
  after(async () => {
    if (state.sd) await state.sd.stop()
  }, { timeout: 30_000 })
  return {
    get sd() {
      return state.sd
    },
    orSkip: (t) => e2eOrSkip(t, state),
  }
}

/** The booted systemd, or null after t.skip(reason) and a banner on stderr (once per reason). */
function e2eOrSkip(t, state) {
  if (state.sd) return state.sd
  const reason = state.unavailable ? state.unavailable.reason : 'systemd was not booted (before hook did not run?)'
  if (!unavailableBanner.has(reason)) {
    unavailableBanner.add(reason)
    const line = '!'.repeat(78)
    console.error(`\n${line}\n!! SKIPPING systemd end-to-end tests: ${reason}\n${line}\n`)
  }
  t.skip(`systemd e2e unavailable: ${reason}`)
  return null
}

// The TCP ports services listen on: below the kernel's ephemeral range (32768-60999 by default),
// from which the test clients' own connections take their local ports. A port from that range
// can be held by such a connection (or its TIME_WAIT) when a service binds it: EADDRINUSE.
let port = 20000 + Math.floor(Math.random() * 10000)

/** A port no other test of this file (and its private systemd's network namespace) uses. */
function nextPort() {
  return port++
}

module.exports = {
  bootSystemd,
  nextPort,
  useSystemd,
  e2eOrSkip,
  E2EUnavailableError,
  processesInNamespace,
  pidNamespaceOf,
  REPO_ROOT,
  SERVICES_DIR,
  NODE,
  sleep,
}
