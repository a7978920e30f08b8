'use strict'
// Fuzz target: the reload channel's parsing (lib/reload.js): parseRequest() of what a client
// sends, fed whole and in chunks, and parseReply() of what a service answers. Properties: neither
// throws; a request is `reload` exactly when its first line is "reload" (or "reload\r"); it stays
// `incomplete` only while no line ended and at most MAX_REQUEST bytes came, and once decided an
// extension never changes the decision; a refusal's text stays short; an answer is accepted only
// as an object with a boolean `ok`, with its strings cut and its code well-formed.

const { loop } = require('./random')
const { parseRequest, parseReply, MAX_REQUEST, MAX_REPLY } = require('../../lib/reload')

const PIECES = ['reload', 'reload\n', 'reload\r\n', '\n', '\r', ' ', '\0', 'r', 'e', 'l', 'o', 'a', 'd', 'RELOAD', 'é', '\u2028', '{', '}', '"', 'x'.repeat(70)]
const VALUES = [true, false, null, 0, 1, '', 'text', 'ENOENT', 'no such code', [], {}, 'e'.repeat(5000)]

function generateRequest(r) {
  let text = ''
  const n = r.int(8)
  for (let i = 0; i < n; i++) text += r.pick(PIECES)
  if (r.int(20) === 0) text += 'y'.repeat(r.int(100_000))
  return { kind: 'request', text, cut: r.int(text.length + 1) }
}

function generateReply(r) {
  const value = {}
  for (const key of ['ok', 'error', 'code', 'warning', '__proto__', 'extra']) if (r.int(2)) value[key] = r.pick(VALUES)
  let text = r.int(4) === 0 ? JSON.stringify(r.pick(VALUES)) : JSON.stringify(value)
  const mutate = r.int(4)
  if (mutate === 0) text = text.slice(0, r.int(text.length + 1))
  else if (mutate === 1) {
    const at = r.int(text.length + 1)
    text = text.slice(0, at) + r.pick(PIECES) + text.slice(at)
  }
  return { kind: 'reply', text }
}

const generate = (r) => (r.int(2) ? generateRequest(r) : generateReply(r))

function checkRequest({ text, cut }) {
  const whole = parseRequest(text)
  const end = text.indexOf('\n')
  const expected = end >= 0 ? (text.slice(0, end) === 'reload' || text.slice(0, end) === 'reload\r' ? 'reload' : 'refused') : text.length > MAX_REQUEST ? 'refused' : 'incomplete'
  if (whole.state !== expected) throw new Error(`state ${whole.state}, expected ${expected}`)
  if (whole.state === 'refused' && (typeof whole.error !== 'string' || whole.error.length > 300)) throw new Error(`refusal of ${String(whole.error).length} characters`)
  // Chunked: once a prefix is decided, the whole text is decided the same way.
  const prefix = parseRequest(text.slice(0, cut))
  if (prefix.state !== 'incomplete' && prefix.state !== whole.state) throw new Error(`prefix decided ${prefix.state}, whole ${whole.state}`)
}

function checkReply({ text }) {
  const out = parseReply(text)
  let value
  try {
    value = JSON.parse(text)
  } catch {}
  const answer = text.length > 0 && text.length <= MAX_REPLY && value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.ok === 'boolean'
  if (Boolean(out.invalid) === answer) throw new Error(`invalid=${out.invalid} for an answer=${answer}`)
  if (out.invalid) return
  if (out.ok !== value.ok) throw new Error('ok changed')
  for (const key of Object.keys(out)) if (!['ok', 'error', 'code', 'warning'].includes(key)) throw new Error(`unexpected key ${key}`)
  if (out.error !== undefined && (typeof out.error !== 'string' || out.error.length > 1000)) throw new Error('error too long')
  if (out.warning !== undefined && (typeof out.warning !== 'string' || out.warning.length > 1000)) throw new Error('warning too long')
  if (out.code !== undefined && !/^[A-Z][A-Z0-9_]{0,63}$/.test(out.code)) throw new Error(`code ${out.code}`)
  if (!out.ok && typeof out.error !== 'string') throw new Error('a failure without its error')
}

const check = (input) => (input.kind === 'request' ? checkRequest(input) : checkReply(input))
const run = (options) => loop(options, generate, check)

module.exports = { run, check }
