'use strict'
// Fuzz target: the command's argument parsing (lib/cli.js parseArgs). Properties: it never
// throws; it accepts a reload only for `reload` with one pid of decimal digits in 1..2^31-1 and
// at most one --timeout of decimal digits in 1..2^31-1 (which it returns as given); anything else
// is a usage error whose text stays short, whatever the arguments' length.

const { loop } = require('./random')
const { parseArgs, MAX_PID, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } = require('../../lib/cli')

const TOKENS = ['reload', 'doctor', '--help', '-h', 'help', '--timeout', '--timeout=', '0', '1', '7', '42', '0x10', '1e3', ' 7 ', '-1', '+7', '1.5', '2147483647', '2147483648', '4294967296', '', ' ', '\n', '\0', 'é', '７', 'NaN', 'Infinity']

function token(r) {
  const roll = r.int(10)
  if (roll < 5) return r.pick(TOKENS)
  if (roll < 7) return String(r.int(2 ** 32)).padStart(r.int(12), r.pick(['0', ' ', '']))
  if (roll < 9) return Array.from({ length: r.int(8) }, () => r.pick(TOKENS)).join(r.pick(['', '=', ' ']))
  return r.pick(TOKENS).repeat(r.int(3000))
}

const generate = (r) => Array.from({ length: r.int(5) }, () => token(r))
const digits = (s) => typeof s === 'string' && /^[0-9]+$/.test(s)

function check(argv) {
  const out = parseArgs(argv)
  const keys = Object.keys(out).sort().join(',')
  if (out.error !== undefined) {
    if (keys !== 'error' || typeof out.error !== 'string' || out.error.length > 400) throw new Error(`bad usage error: ${keys} ${String(out.error).length}`)
    return
  }
  if (out.command === 'help' || out.command === 'doctor') {
    if (keys !== 'command' || argv.length !== 1) throw new Error(`${out.command} with arguments ${argv.length}`)
    if (out.command === 'doctor' ? argv[0] !== 'doctor' : !['--help', '-h', 'help'].includes(argv[0])) throw new Error(`${out.command} from ${argv[0]}`)
    return
  }
  if (out.command !== 'reload' || keys !== 'command,pid,timeoutMs' || argv[0] !== 'reload') throw new Error(`unexpected result ${JSON.stringify(out)}`)
  const { pid, timeoutMs } = out
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > MAX_PID) throw new Error(`pid ${pid} out of range`)
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) throw new Error(`timeout ${timeoutMs} out of range`)
  const rest = argv.slice(1)
  const timeouts = rest.filter((a) => a === '--timeout' || a.startsWith('--timeout='))
  if (timeouts.length > 1) throw new Error('two --timeout accepted')
  const plain = rest.filter((a, i) => !(a === '--timeout' || a.startsWith('--timeout=') || rest[i - 1] === '--timeout'))
  if (plain.length !== 1 || !digits(plain[0]) || Number(plain[0]) !== pid) throw new Error(`pid ${pid} from ${JSON.stringify(plain)}`)
  if (timeouts.length === 0 ? timeoutMs !== DEFAULT_TIMEOUT_MS : false) throw new Error('a timeout from nowhere')
  if (timeouts.length === 1) {
    const at = rest.indexOf(timeouts[0])
    const text = timeouts[0] === '--timeout' ? rest[at + 1] : timeouts[0].slice(10)
    if (!digits(text) || Number(text) !== timeoutMs) throw new Error(`timeout ${timeoutMs} from ${JSON.stringify(text)}`)
  }
}

const run = (options) => loop(options, generate, check)

module.exports = { run, check }
