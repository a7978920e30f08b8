#!/usr/bin/env node
'use strict'
// `npm run fuzz`: runs every fuzz target in fuzz/ for a while (libFuzzer through cargo-fuzz, on
// the nightly toolchain, niced), then prints each target's executions and findings (CI keeps the
// output; nothing is written to the repository).
//
//   node scripts/fuzz.js [--seconds=30] [target ...]      SD_NOTIFY_RS_FUZZ_SECONDS also sets the time
//
// Needs `cargo install cargo-fuzz` and `rustup toolchain install nightly`. A crash fails the run
// and leaves its input in fuzz/artifacts/<target>/.

const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const FUZZ = path.join(__dirname, '..', 'fuzz')
const args = process.argv.slice(2)
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? process.env.SD_NOTIFY_RS_FUZZ_SECONDS ?? 30)
const manifest = fs.readFileSync(path.join(FUZZ, 'Cargo.toml'), 'utf8')
const all = [...manifest.matchAll(/^name = "([a-z_]+)"$/gm)].map((m) => m[1]).filter((n) => n !== 'sd-notify-rs-fuzz')
const targets = args.filter((a) => !a.startsWith('--'))
for (const t of targets) if (!all.includes(t)) throw new Error(`unknown fuzz target ${t}: one of ${all.join(', ')}`)

const which = (cmd, argv) => cp.spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0
if (!which('cargo', ['+nightly', '--version'])) throw new Error('the nightly toolchain is needed: rustup toolchain install nightly')
if (!which('cargo', ['fuzz', '--version'])) throw new Error('cargo-fuzz is needed: cargo install cargo-fuzz')

const results = []
let failed = false
for (const target of targets.length ? targets : all) {
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
