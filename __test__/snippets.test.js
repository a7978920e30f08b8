'use strict'
// Every fenced code block of README.md, CONTRIBUTING.md and docs/*.md runs as pasted, or says why
// not. A block is run the way a reader would use it, in a scratch project under .cache/ where
// `sd-notify-rs` resolves to this checkout (node_modules/sd-notify-rs is a symlink to it):
//
// - js/mjs: run as a file (ESM when it has `import` statements), outside any service manager,
//   with a timeout: it must end by itself with exit 0. `console.log(...) // prints: X` lines are
//   compared, in order, with what it printed;
// - ts: type-checked together with the repository's TypeScript (--strict, nodenext, @types/node);
// - ini: `systemd-analyze verify`, which must say nothing about the file;
// - blocks that need systemd, under the testbed's private systemd (one boot for this file), with
//   `systemctl show` checking what the text claims.
//
// The first line of a block may direct it (`//` in js/ts, `#` in ini/sh), CONTRIBUTING.md has the
// table: `snippet: fragment — why`, `snippet: not run — why`, `snippet: file NAME`,
// `snippet: unit NAME; steps`, `snippet: systemd PROPS; steps`. A block that is neither runnable
// nor marked fails. Relative links and their #anchors are checked too (the loader's error message
// points into docs/, so its link is checked as well).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { useSystemd } = require('./e2e/harness')

const ROOT = path.join(__dirname, '..')
const DOCS = ['README.md', 'CONTRIBUTING.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
const RUN_TIMEOUT_MS = 20_000
const JS = new Set(['js', 'mjs', 'javascript', 'cjs'])
const TS = new Set(['ts', 'typescript', 'mts'])
const INI = new Set(['ini', 'systemd'])
// Links to files another branch adds: checked once they exist (see the report of issue 26).
const PENDING_FILES = new Set(['testbed/README.md'])

// The snippets are Node.js programs, run with this Node.js (Bun's and Deno's services under systemd
// are __test__/e2e/runtimes.test.js). `sd-notify-rs reload` needs Node.js >= 20.8 (docs/lifecycle.md).
const OTHER_RUNTIME = process.versions.bun ? 'Bun' : process.versions.deno ? 'Deno' : null
const [major, minor] = process.versions.node.split('.').map(Number)
const RELOAD_CHANNEL = major > 20 || (major === 20 && minor >= 8)

const e2e = OTHER_RUNTIME ? null : useSystemd()

/** The fenced blocks of a markdown file: { doc, line, lang, code, directive }. */
function blocksOf(doc) {
  const lines = fs.readFileSync(path.join(ROOT, doc), 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    if (/^\s+```/.test(lines[i])) throw new Error(`${doc}:${i + 1}: an indented fence is not extracted; start it at column 0`)
    const open = /^```(\S*)\s*$/.exec(lines[i])
    if (!open) continue
    const start = i
    const body = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i])
    if (i >= lines.length) throw new Error(`${doc}:${start + 1}: unclosed fence`)
    const first = body[0] ?? ''
    const directive = /^(?:\/\/|#)\s*snippet:\s*(.*)$/.exec(first)?.[1]?.trim() ?? null
    blocks.push({ doc, line: start + 1, lang: open[1].toLowerCase(), code: body.join('\n') + '\n', directive })
  }
  return blocks
}

/** `systemd Type=notify WatchdogSec=4; expect A=b, C=d; reload` → { head, steps }. */
function parseDirective(directive) {
  const [head, ...rest] = directive.split(';').map((s) => s.trim())
  const steps = rest.filter(Boolean).map((step) => {
    const [verb, ...args] = step.split(/\s+/)
    if (verb === 'expect') {
      const expect = {}
      for (const pair of step.slice('expect'.length).split(',')) {
        const eq = pair.indexOf('=')
        if (eq < 0) throw new Error(`bad expectation "${pair}" in "${directive}"`)
        expect[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim()
      }
      return { verb, expect }
    }
    if (verb === 'reload' || verb === 'restart') return { verb, args }
    if (verb === 'journal') return { verb, args } // FIELD=value ...: an entry of the unit has them all
    throw new Error(`unknown step "${step}" in "${directive}"`)
  })
  return { head, steps }
}

/** How a block is proved: 'run', 'check' (syntax only), 'file', 'tsc', 'verify', 'unit', 'systemd' or 'skip'. */
function kindOf(block) {
  const d = block.directive
  const marked = d && /^(fragment|not run)\b/.test(d)
  if (JS.has(block.lang)) {
    if (!d) return 'run'
    if (marked) return 'check'
    if (/^file\s+\S+$/.test(d)) return 'file'
    if (/^systemd\b/.test(d)) return 'systemd'
  } else if (TS.has(block.lang)) {
    if (!d) return 'tsc'
    if (marked) return 'skip'
  } else if (INI.has(block.lang)) {
    if (!d) return 'verify'
    if (marked) return 'skip'
    if (/^unit\s+\S+/.test(d)) return 'unit'
  } else if (marked) {
    return 'skip'
  }
  return null
}

const isEsm = (code) => /^(import|export)\s/m.test(code)
const extOf = (block) => (block.lang === 'mjs' || isEsm(block.code) ? '.mjs' : '.js')

/** The scratch project: package.json, node_modules/sd-notify-rs → the checkout (pino etc. resolve from the checkout's node_modules above). */
function scratch(name) {
  const dir = path.join(ROOT, '.cache', 'snippets', `${name}-${process.pid}`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  // "type": "commonjs" as most projects are: a .js snippet with top-level await must fail here.
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "type": "commonjs" }\n')
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'sd-notify-rs'))
  return dir
}

/** Runs argv with a deadline; resolves { code, signal, stdout, stderr, timedOut }. */
function run(argv, { cwd, env = process.env, timeout = RUN_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    // Its own process group: a snippet that leaves a child running is killed with it at the deadline.
    const child = cp.spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeout)
    // 'close' waits for the pipes: a child the snippet left running keeps them open, and that is a
    // snippet that does not end by itself.
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
  })
}

/** The environment of a process outside any service manager. */
function plainEnv() {
  const env = { ...process.env }
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'LISTEN_PIDFDID', 'JOURNAL_STREAM']) delete env[k]
  return env
}

const where = (block) => `${block.doc}:${block.line}`

async function runJs(block, dir, index) {
  const file = path.join(dir, `snippet-${index}${extOf(block)}`)
  fs.writeFileSync(file, block.code)
  const r = await run([process.execPath, file], { cwd: dir, env: plainEnv() })
  assert.ok(!r.timedOut, `${where(block)} did not end by itself within ${RUN_TIMEOUT_MS} ms (a server left running? a child never killed?)\n${r.stderr}`)
  assert.equal(r.code, 0, `${where(block)} exited ${r.code ?? r.signal}:\n${r.stderr}`)
  const printed = r.stdout.split('\n')
  const claims = [...block.code.matchAll(/console\.log\(.*\/\/ prints: (.*)$/gm)].map((m) => m[1].trim())
  claims.forEach((claim, i) => assert.equal(printed[i]?.trim(), claim, `${where(block)}: printed line ${i + 1}`))
}

async function checkJs(block, dir, index, name) {
  const file = path.join(dir, name ?? `snippet-${index}${extOf(block)}`)
  fs.writeFileSync(file, block.code)
  const r = await run([process.execPath, '--check', file], { cwd: dir })
  assert.equal(r.code, 0, `${where(block)} is not valid ${extOf(block) === '.mjs' ? 'ESM' : 'CommonJS'}:\n${r.stderr}`)
}

function typeCheck(blocks, dir) {
  const files = blocks.map((b, i) => {
    const name = `snippet-${i}${isEsm(b.code) ? '.mts' : '.ts'}`
    fs.writeFileSync(path.join(dir, name), b.code)
    return name
  })
  const tsconfig = {
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'] },
    files,
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = cp.spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
  const where = (out) => out.replace(/snippet-(\d+)\.m?ts/g, (m, i) => `${m} (${blocks[i].doc}:${blocks[i].line})`)
  assert.equal(r.status, 0, where(r.stdout + r.stderr))
}

/** A unit file of the docs made runnable here: node is this node, paths of saved files are the scratch project's. */
function localUnit(text, dir, saved, names) {
  let out = text.replace(/(^|[\s=])\/usr\/bin\/node(?=\s)/gm, `$1${process.execPath}`)
  out = out.replace(/\/[\w.-]+(?:\/[\w.-]+)*\/node_modules\/\.bin\/sd-notify-rs(?=\s|$)/gm, `${process.execPath} ${path.join(ROOT, 'bin', 'sd-notify-rs.js')}`)
  out = out.replace(/\/[\w.-]+(?:\/[\w.-]+)+/gm, (p) => (saved.has(path.basename(p)) ? path.join(dir, path.basename(p)) : p))
  // Unit names only (Requires=x.socket), not paths that share the name (app.service runs app.js).
  for (const [from, to] of names) out = out.replace(new RegExp(`\\b${from.replace(/[.-]/g, '\\$&')}\\.(service|socket)\\b`, 'g'), `${to}.$1`)
  return out
}

async function verifyUnit(block, dir, index, saved) {
  const file = path.join(dir, `snippet-${index}.${/^\[Socket\]/m.test(block.code) ? 'socket' : 'service'}`)
  fs.writeFileSync(file, localUnit(block.code, dir, saved, []))
  const r = await run(['systemd-analyze', 'verify', file], { cwd: dir })
  const about = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(file))
  assert.equal(r.code, 0, `${where(block)}: systemd-analyze verify failed:\n${r.stdout}${r.stderr}`)
  assert.deepEqual(about, [], `${where(block)}: systemd-analyze verify complains`)
}

async function steps(t, sd, unit, list, block) {
  for (const step of list) {
    if (step.verb === 'expect') {
      await sd.waitFor(unit, (s) => Object.entries(step.expect).every(([k, v]) => s[k] === v), 10_000, Object.keys(step.expect))
    } else if (step.verb === 'journal') {
      const deadline = Date.now() + 10_000
      while ((await sd.journalctl(`_SYSTEMD_UNIT=${unit}`, ...step.args)).length === 0) {
        assert.ok(Date.now() < deadline, `${where(block)}: no journal entry of ${unit} with ${step.args.join(' ')}\n${await sd.journalText(unit)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } else if (step.verb === 'reload' && !RELOAD_CHANNEL) {
      t.diagnostic(`${where(block)}: reload not tried: sd-notify-rs reload needs Node.js >= 20.8`)
    } else {
      const r = await sd.systemctl(step.verb, unit)
      assert.equal(r.code, 0, `${where(block)}: systemctl ${step.verb} ${unit} failed: ${r.stderr}\n${await sd.journalText(unit)}`)
    }
  }
}

async function stopCleanly(sd, unit, block) {
  await sd.systemctl('stop', unit)
  const s = await sd.show(unit, ['ActiveState', 'Result'])
  assert.equal(s.Result, 'success', `${where(block)}: ${unit} did not stop cleanly: ${JSON.stringify(s)}\n${await sd.journalText(unit)}`)
}

const counts = { run: 0, check: 0, file: 0, tsc: 0, verify: 0, unit: 0, systemd: 0, skip: 0, links: 0 }

for (const doc of DOCS) {
  test(`${doc}: every code block runs as pasted, or says why not`, { skip: OTHER_RUNTIME ? `the snippets are run with Node.js, not ${OTHER_RUNTIME}` : false }, async (t) => {
    const blocks = blocksOf(doc)
    const unmarked = blocks.filter((b) => !kindOf(b)).map((b) => `${where(b)} (${b.lang || 'no language'}: ${b.directive ?? b.code.split('\n')[0]})`)
    assert.deepEqual(unmarked, [], 'blocks that are neither runnable nor marked with a `snippet:` comment')
    const dir = scratch(doc.replace(/[^\w]/g, '_'))
    const saved = new Set()
    const names = new Map() // unit base names of this document → unique ones
    const sockets = new Map() // base name → socket unit waiting for its service
    const started = []
    const ts = []
    try {
      for (const [i, block] of blocks.entries()) {
        const kind = kindOf(block)
        counts[kind]++
        if (kind === 'run') await runJs(block, dir, i)
        else if (kind === 'check') await checkJs(block, dir, i)
        else if (kind === 'file') {
          const name = block.directive.split(/\s+/)[1]
          await checkJs(block, dir, i, name)
          saved.add(name)
        } else if (kind === 'tsc') ts.push(block)
        else if (kind === 'verify') await verifyUnit(block, dir, i, saved)
        else if (kind === 'unit' || kind === 'systemd') {
          const sd = e2e.orSkip(t)
          if (!sd) continue
          const { head, steps: list } = parseDirective(block.directive)
          if (kind === 'unit') {
            const name = head.split(/\s+/)[1]
            const base = name.replace(/\.(service|socket)$/, '')
            if (!names.has(base)) names.set(base, sd.unitName(`snip-${base}`))
            const unit = `${names.get(base)}${path.extname(name)}`
            await sd.installUnit(unit, localUnit(block.code, dir, saved, names))
            // A socket unit starts with its service (systemd refuses one whose service is not loaded yet).
            if (unit.endsWith('.socket')) {
              sockets.set(base, unit)
              continue
            }
            for (const u of [sockets.get(base), unit].filter(Boolean)) {
              started.push(u)
              const r = await sd.systemctl('start', u)
              assert.equal(r.code, 0, `${where(block)}: systemctl start ${u} failed: ${r.stderr}\n${await sd.journalText(u)}`)
            }
            await steps(t, sd, unit, list, block)
            await stopCleanly(sd, unit, block)
          } else {
            const file = path.join(dir, `snippet-${i}${extOf(block)}`)
            fs.writeFileSync(file, block.code)
            const props = head.split(/\s+/).slice(1)
            const unit = `${sd.unitName('snip')}.service`
            started.push(unit)
            const r = await sd.run(unit, props, [sd.node, file])
            assert.equal(r.code, 0, `${where(block)}: the service did not start: ${r.stderr}\n${await sd.journalText(unit)}`)
            await steps(t, sd, unit, list, block)
            await stopCleanly(sd, unit, block)
          }
        }
      }
      if (ts.length) typeCheck(ts, dir)
      fs.rmSync(dir, { recursive: true, force: true }) // kept when the test failed, to look at
    } finally {
      const sd = e2e?.sd
      if (sd && started.length) await sd.systemctl('stop', ...started)
    }
  })
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
const anchorsOf = (file) =>
  new Set(
    fs
      .readFileSync(file, 'utf8')
      .replace(/^```[\s\S]*?^```/gm, '')
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => slug(l.replace(/^#+ /, ''))),
  )

test('relative links and their anchors point at something, the loader error message included', (t) => {
  const broken = []
  const check = (from, target, label = from) => {
    const [file, anchor] = target.split('#')
    const resolved = file ? path.resolve(path.dirname(path.join(ROOT, from)), file) : path.join(ROOT, from)
    const rel = path.relative(ROOT, resolved)
    counts.links++
    if (!fs.existsSync(resolved)) {
      if (PENDING_FILES.has(rel)) t.diagnostic(`${from} links ${rel}, which another branch adds`)
      else broken.push(`${label}: ${target} (no such file)`)
      return
    }
    if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) broken.push(`${label}: ${target} (no such heading)`)
  }
  for (const doc of DOCS) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1])) check(doc, m[1])
  }
  for (const m of fs.readFileSync(path.join(ROOT, 'lib', 'loader.js'), 'utf8').matchAll(/(docs\/[\w-]+\.md#[\w-]+)/g)) check('README.md', m[1], 'lib/loader.js (the ERR_SD_NOTIFY_NO_BINARY message)')
  assert.deepEqual(broken, [])
})

test('the count', { skip: Boolean(OTHER_RUNTIME) }, () => {
  const total = Object.entries(counts).filter(([k]) => k !== 'links').reduce((n, [, v]) => n + v, 0)
  const line =
    `snippets: ${total} code blocks in ${DOCS.length} files: ${counts.run} run, ${counts.systemd + counts.unit} under systemd ` +
    `(${counts.systemd} services, ${counts.unit} unit files), ${counts.tsc} type-checked, ${counts.verify} unit files verified, ` +
    `${counts.file} saved files and ${counts.check} fragments syntax-checked, ${counts.skip} not run (marked); ${counts.links} links`
  console.log(line)
  assert.ok(total > 0)
})
