'use strict'
// One registry of error codes: the native ones (NotifyError::code in crates/sd-notify-protocol/src/error.rs) and
// the JavaScript ones (lib/errors.js) together are exactly the README's error table, and no other
// file makes up a code of its own.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { CODES } = require('../lib/errors')
const { nativeCodes, ERROR_RS } = require('../scripts/error-codes')

const ROOT = path.join(__dirname, '..')
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')
const codesIn = (text) => new Set(text.match(/ERR_SD_NOTIFY_[A-Z_]+|ETIMEDOUT/g) ?? [])

const readmeTable = () => {
  const section = read('docs/errors.md').split('\n## Errors\n')[1].split('\n## ')[0]
  return new Set([...section.matchAll(/^\| `(ERR_SD_NOTIFY_[A-Z_]+|ETIMEDOUT)`/gm)].map((m) => m[1]))
}

test("the native and JavaScript registries together are exactly the README's error table", () => {
  const registered = new Set([...nativeCodes(), ...Object.values(CODES)])
  assert.deepEqual([...registered].sort(), [...readmeTable()].sort())
})

test('no other source file spells out a code of its own: each comes from a registry', () => {
  const offenders = []
  const scan = (dir, filter) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name)
      if (entry.isDirectory()) scan(rel, filter)
      else if (filter(rel)) {
        // Doc comments and messages may name codes; string literals that create one may not.
        // Rust unit tests (after #[cfg(test)]) assert codes; they create none.
        const code = read(rel)
          .split('#[cfg(test)]')[0]
          .split('\n')
          .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
          .join('\n')
        for (const c of code.match(/'(ERR_SD_NOTIFY_[A-Z_]+)'|"(ERR_SD_NOTIFY_[A-Z_]+)"/g) ?? []) offenders.push(`${rel}: ${c}`)
      }
    }
  }
  scan('src', (f) => f.endsWith('.rs') && !f.endsWith('_tests.rs'))
  scan('crates', (f) => f.endsWith('.rs') && !f.endsWith('_tests.rs') && f !== ERROR_RS)
  scan('lib', (f) => f.endsWith('.js') && f !== path.join('lib', 'errors.js'))
  scan('integrations', (f) => f.endsWith('.js'))
  // JavaScript code passes a registered code by its literal to codedError(), which checks it.
  const unregistered = offenders.filter((o) => !Object.values(CODES).some((c) => o.endsWith(`'${c}'`) || o.endsWith(`"${c}"`)))
  assert.deepEqual(unregistered, [])
  assert.ok(codesIn(read('lib/errors.js')).size >= Object.keys(CODES).length)
})
