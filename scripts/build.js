'use strict'
// Builds the addon for this platform and writes index.d.ts: the hand-written header
// (types/header.d.ts), the error codes' union (generated from their registries by
// scripts/error-codes.js), then the declarations napi-rs generates from the Rust doc comments.
const { spawnSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const header = readFileSync(join(root, 'types', 'header.d.ts'), 'utf8') + require('./error-codes').declarations()
const napi = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
const args = [napi, 'build', '--platform', '--no-js', '--dts', 'index.d.ts', '--dts-header', header, ...process.argv.slice(2)]
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
if (r.status === 0) require('./esm-entry') // index.mjs follows lib/exports.js
process.exit(r.status ?? 1)
