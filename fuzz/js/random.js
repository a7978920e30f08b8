'use strict'
// The seeded random source and loop of the JavaScript fuzz targets (fuzz/js/*.js): each target
// is a property checked over generated inputs for a number of iterations or seconds, the way
// scripts/fuzz.js runs them; a failing input is returned (and printed), never thrown away.

/** mulberry32: small, fast, and the same sequence for the same seed. */
function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n) => Math.floor(next() * n)
  const pick = (list) => list[int(list.length)]
  return { next, int, pick }
}

/**
 * Runs `check(input)` on `generate(r)` inputs until `iterations` ran or `seconds` passed (the
 * first given). `check` throws on a violated property; returns { execs, finding }, finding being
 * null or { input, error }.
 */
function loop({ iterations, seconds, seed = Date.now() }, generate, check) {
  const r = rng(seed)
  const until = seconds === undefined ? Infinity : Date.now() + seconds * 1000
  const max = iterations ?? Infinity
  let execs = 0
  while (execs < max && (execs % 256 !== 0 || Date.now() < until)) {
    const input = generate(r)
    execs++
    try {
      check(input)
    } catch (err) {
      return { execs, seed, finding: { input, error: String(err && err.stack) } }
    }
  }
  return { execs, seed, finding: null }
}

module.exports = { rng, loop }
