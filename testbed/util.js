'use strict'
// Small helpers shared by the tests, the e2e harness, the demo and the benchmarks.

const crypto = require('node:crypto')
const fs = require('node:fs')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Sleeps without returning to the event loop; only for the process 'exit' handler.
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

// Resolves with the promise's value, or undefined after ms; the timer never keeps us alive.
function withTimeout(promise, ms) {
  let timer
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  )
}

function randomId() {
  return crypto.randomBytes(4).toString('hex')
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

function tail(text, lines = 40) {
  return (text || '').trimEnd().split('\n').slice(-lines).join('\n')
}

/** The median of the finite numbers in `values` (the mean of the two middle ones for an even count); NaN for none. */
function median(values) {
  return quantile(values, 0.5)
}

/** The `q` quantile (0..1) of the finite numbers in `values`, interpolated; NaN for none. */
function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const pos = (v.length - 1) * q
  const lo = Math.floor(pos)
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (pos - lo)
}

module.exports = { sleep, sleepSync, withTimeout, randomId, isAlive, readText, tail, median, quantile }
