'use strict'
// What the scripts share: running a command (to its end, or side by side with its output kept),
// the environment a nested npm needs, options, lanes, a `node --test` cell read from its TAP report,
// and tables. Node.js built-ins only: the release workflow runs smoke-test-package.js in bare
// containers, with no node_modules.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

/** This environment without the npm_* variables `npm run` sets, which would steer a nested npm; plus `extra`. */
function cleanEnv(extra = {}) {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), ...extra }
}

/** The npm CLI script behind `npm` on PATH, to run with a given node, so that npm and that node match. */
function npmCli() {
  if (process.env.npm_execpath?.endsWith('.js')) return process.env.npm_execpath
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (fs.existsSync(path.join(dir, 'npm'))) return fs.realpathSync(path.join(dir, 'npm'))
  }
  throw new Error('npm is not on PATH')
}

/** Runs `cmd` to its end and returns its stdout; throws, with the end of its output, unless it exits 0. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...opts })
  if (r.error) throw new Error(`${cmd} could not be started: ${r.error.message}`)
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000)
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${out}`)
  return r.stdout
}

/**
 * Starts `cmd` without waiting for it; resolves when it ends with `{ status, code, signal, out,
 * seconds }` (`out`: stdout and stderr together), never rejects (status -1: it did not start).
 * `prefix` also writes each output line to our stdout behind it; `timeout` (ms) kills it; a given
 * `stdio` is used as it is (nothing is kept in `out`).
 */
function spawnCollect(cmd, args, { prefix, timeout, ...opts } = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let out = ''
    for (const stream of [child.stdout, child.stderr].filter(Boolean)) {
      let rest = ''
      stream.setEncoding('utf8').on('data', (d) => {
        out += d
        if (prefix === undefined) return
        const lines = (rest + d).split('\n')
        rest = lines.pop()
        for (const line of lines) process.stdout.write(`${prefix}${line}\n`)
      })
      stream.on('end', () => prefix !== undefined && rest && process.stdout.write(`${prefix}${rest}\n`))
    }
    const timer = timeout && setTimeout(() => child.kill('SIGKILL'), timeout)
    const end = (code, signal, more = '') => {
      clearTimeout(timer)
      resolve({ status: code ?? signal, code, signal, out: out + more, seconds: (Date.now() - started) / 1000 })
    }
    child.on('error', (err) => end(-1, null, `${cmd} could not be started: ${err.message}`))
    child.on('close', end)
  })
}

const camel = (name) => name.replace(/-(\w)/g, (_, c) => c.toUpperCase())

/**
 * The options in `argv`, by `spec`: `{ name: kind }` for `--name` (kind 'flag': true), `--name v`
 * or `--name=v` ('value'; 'list': every one, comma-separated ones split; 'jobs': a whole number
 * >= 1). Keys are camelCased; `defaults` first. Throws on anything else, saying what there is.
 */
function parseArgs(argv, spec, defaults = {}) {
  const opts = { ...defaults }
  for (const [name, kind] of Object.entries(spec)) if (kind === 'list') opts[camel(name)] ??= []
  const usage = Object.entries(spec).map(([n, k]) => (k === 'flag' ? `--${n}` : `--${n} <${k}>`)).join(', ')
  for (let i = 0; i < argv.length; i++) {
    const [, name, inline] = /^--([^=]+)(?:=(.*))?$/s.exec(argv[i]) ?? []
    const kind = Object.hasOwn(spec, name ?? '') ? spec[name] : null
    if (!kind) throw new Error(`unknown argument ${argv[i]}: use ${usage}`)
    const key = camel(name)
    if (kind === 'flag') {
      opts[key] = true
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new Error(`--${name} needs a value`)
    if (kind === 'list') opts[key].push(...value.split(','))
    else opts[key] = kind === 'jobs' ? Number(value) : value
    if (kind === 'jobs' && !(Number.isInteger(opts[key]) && opts[key] >= 1)) throw new Error(`--${name} needs a whole number >= 1`)
  }
  return opts
}

/**
 * Runs `work(item, lane)` for every item of the iterable `items`, `jobs` at a time; each running
 * call has a lane number (0..jobs-1) of its own. Resolves when all have settled.
 */
async function inLanes(items, jobs, work) {
  const queue = [...items]
  const lane = async (n) => {
    while (queue.length) await work(queue.shift(), n)
  }
  // queue.length, not items.length: an iterator (targets.keys()) has none, and Math.min(jobs,
  // undefined) is NaN, which ran no lane at all and reported every target built.
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, (_, n) => lane(n)))
}

/**
 * The totals of a TAP report of node's test runner: `{ tests, pass, fail, skip, found, failed,
 * skips }`: `fail` counts cancelled tests, `skip` todo ones; `failed` the failed tests' names,
 * `skips` each skip's "name: reason" (those a --test-name-pattern left out are neither); `found`:
 * the report has its totals at all (a crash leaves none).
 */
function tapTotals(text) {
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
  const skipped = [...text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)]
  const skips = skipped.filter((m) => m[2] !== 'test name does not match pattern').map((m) => `${m[1]}: ${m[2] || 'skipped'}`)
  return {
    tests: count('tests') - (skipped.length - skips.length),
    pass: count('pass'),
    fail: count('fail') + count('cancelled'),
    skip: count('skipped') + count('todo') - (skipped.length - skips.length),
    found: /^# tests \d+$/m.test(text),
    failed: [...text.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1].replace(/ # .*$/, '')),
    skips,
  }
}

/**
 * One cell: `node --test` over `files`, its TAP report on stdout, or with `spec`, in a file of its
 * own while stdout has the spec reporter's (for people: echoed behind `prefix`). Resolves with
 * spawnCollect()'s result, tapTotals()' and `ok`: exit status 0, totals found, nothing failed,
 * something passed.
 */
async function nodeTest(node, files, { args = [], spec = false, ...opts } = {}) {
  const dir = spec && fs.mkdtempSync(path.join(os.tmpdir(), 'sd-notify-rs-cell-'))
  const file = dir && path.join(dir, 'tap')
  const reporters = spec ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${file}`] : ['--test-reporter=tap']
  try {
    const r = await spawnCollect(node, ['--test', ...reporters, ...args, ...files], opts)
    const totals = tapTotals(!spec ? r.out : fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')
    return { ...r, ...totals, ok: r.status === 0 && totals.found && totals.fail === 0 && totals.pass > 0 }
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** `rows` (arrays) under `head`, as a Markdown table or, without `markdown`, in aligned columns. */
function table(head, rows, { markdown = true } = {}) {
  const cells = rows.map((r) => r.map(String))
  if (markdown) return [head, head.map(() => '---'), ...cells].map((r) => `| ${r.join(' | ')} |`).join('\n')
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  return [head, ...cells].map((c) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

module.exports = { cleanEnv, npmCli, run, spawnCollect, parseArgs, inLanes, tapTotals, nodeTest, table }
