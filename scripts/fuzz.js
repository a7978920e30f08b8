#!/usr/bin/env node
'use strict'
// `npm run fuzz`: runs every fuzz target in fuzz/ for a while, then prints each target's
// executions and findings (CI keeps the output; nothing is written to the repository).
// - the Rust targets (fuzz/fuzz_targets/): libFuzzer through cargo-fuzz, on the nightly
//   toolchain, niced; a crash leaves its input in fuzz/artifacts/<target>/.
// - the JavaScript targets (fuzz/js/*.js, for the parsers written in JavaScript: the reload
//   channel's requests and the command's arguments): a seeded property loop run in this process;
//   a failing input is printed with the seed that reproduces it.
//
//   node scripts/fuzz.js [--seconds=30] [--js] [target ...]   SD_NOTIFY_RS_FUZZ_SECONDS also sets the time
//
// --js: only the JavaScript targets. The Rust ones need `cargo install cargo-fuzz` and
// `rustup toolchain install nightly`. A finding fails the run.

const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const FUZZ = path.join(__dirname, '..', 'fuzz')
const args = process.argv.slice(2)
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? process.env.SD_NOTIFY_RS_FUZZ_SECONDS ?? 30)
const manifest = fs.readFileSync(path.join(FUZZ, 'Cargo.toml'), 'utf8')
const rust = [...manifest.matchAll(/^name = "([a-z_]+)"$/gm)].map((m) => m[1]).filter((n) => n !== 'sd-notify-rs-fuzz')
const js = fs
  .readdirSync(path.join(FUZZ, 'js'))
  .filter((f) => f.endsWith('.js') && f !== 'random.js')
  .map((f) => f.slice(0, -3))
const all = [...rust, ...js]
const named = args.filter((a) => !a.startsWith('--'))
for (const t of named) if (!all.includes(t)) throw new Error(`unknown fuzz target ${t}: one of ${all.join(', ')}`)
const targets = named.length ? named : args.includes('--js') ? js : all

const results = []
let failed = false
for (const target of targets.filter((t) => js.includes(t))) {
  process.stderr.write(`[fuzz] ${target} (JavaScript): ${seconds} s\n`)
  const { execs, seed, finding } = require(path.join(FUZZ, 'js', target)).run({ seconds })
  failed ||= finding !== null
  const found = finding && `${finding.error.split('\n')[0]} (seed ${seed}, input ${JSON.stringify(finding.input).slice(0, 300)})`
  results.push({ target, seconds, execs, corpus: null, finding: found })
  process.stderr.write(`[fuzz] ${target}: ${execs} executions, ${found ? `FOUND: ${found}` : 'nothing found'}\n`)
}

const which = (cmd, argv) => cp.spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0
const rustTargets = targets.filter((t) => rust.includes(t))
if (rustTargets.length && !which('cargo', ['+nightly', '--version'])) throw new Error('the nightly toolchain is needed: rustup toolchain install nightly (or --js for the JavaScript targets only)')
if (rustTargets.length && !which('cargo', ['fuzz', '--version'])) throw new Error('cargo-fuzz is needed: cargo install cargo-fuzz (or --js for the JavaScript targets only)')

for (const target of rustTargets) {
  const corpus = path.join(FUZZ, 'corpus', target)
  fs.mkdirSync(corpus, { recursive: true })
  process.stderr.write(`[fuzz] ${target}: ${seconds} s\n`)
  const r = cp.spawnSync(
    'nice',
    ['-n', '10', 'cargo', '+nightly', 'fuzz', 'run', '--fuzz-dir', FUZZ, target, corpus, '--', `-max_total_time=${seconds}`, '-print_final_stats=1'],
    { cwd: path.join(FUZZ, '..'), encoding: 'utf8', maxBuffer: 1 << 28 },
  )
  const out = `${r.stdout}${r.stderr}`
  const execs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(out)?.[1] ?? NaN)
  const crashed = r.status !== 0
  failed ||= crashed
  const finding = crashed ? (out.match(/==\d+== ERROR: .*|panicked at .*|SUMMARY: .*/)?.[0] ?? `exit ${r.status}`) : null
  results.push({ target, seconds, execs, corpus: fs.readdirSync(corpus).length, finding })
  process.stderr.write(`[fuzz] ${target}: ${execs} executions, ${finding ? `FOUND: ${finding}` : 'nothing found'}\n`)
  if (crashed) process.stderr.write(out.split('\n').slice(-40).join('\n') + '\n')
}
const report = { date: new Date().toISOString(), results }
console.log(JSON.stringify(report, null, 2))
process.exit(failed ? 1 : 0)
