'use strict'
// The TypeScript declaration of every error `code` the package can throw, generated from the two
// places codes are declared: NotifyError::code (crates/sd-notify-protocol/src/error.rs) and CODES (lib/errors.js),
// plus the errno names of failed system calls, which are Node's own (os.constants.errno).
// scripts/build.js appends it to index.d.ts's header; __test__/exports.test.js checks that
// index.d.ts holds exactly what this prints.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { CODES } = require('../lib/errors')

const ROOT = path.join(__dirname, '..')

/** The native registry: the file that declares NotifyError::code, relative to the package root. */
const ERROR_RS = path.join('crates', 'sd-notify-protocol', 'src', 'error.rs')

/** The codes NotifyError::code returns (its `=> "CODE"` arms: ERR_SD_NOTIFY_* and ETIMEDOUT), in order. */
function nativeCodes() {
  const rust = fs.readFileSync(path.join(ROOT, ERROR_RS), 'utf8')
  return [...new Set([...rust.matchAll(/=> "(ERR_SD_NOTIFY_[A-Z_]+|ETIMEDOUT)"/g)].map((m) => m[1]))]
}

/** The package's own codes (ERR_SD_NOTIFY_*), sorted: ETIMEDOUT is among the errno names. */
function packageCodes() {
  return [...new Set([...nativeCodes(), ...Object.values(CODES)])].filter((c) => c.startsWith('ERR_SD_NOTIFY_')).sort()
}

/** Errno names as Node names them (ECONNREFUSED, ...): what a failed system call's `code` is. */
function errnoNames() {
  // Linux's names, whatever platform builds the declarations (they are the same on every Linux).
  return Object.keys(os.constants.errno).sort()
}

const union = (names) => names.map((n) => `\n  | '${n}'`).join('')

function declarations() {
  return `
/** A code of this package's own (see README, "Errors"). */
export type SdNotifyOwnErrorCode =${union(packageCodes())}

/** The errno name of a failed system call (\`ECONNREFUSED\`, \`EAGAIN\`, \`ETIMEDOUT\`, ...), as Node names them. */
export type SdNotifyErrnoCode =${union(errnoNames())}

/** Every \`code\` an error thrown or rejected by this package can carry. */
export type SdNotifyErrorCode = SdNotifyOwnErrorCode | SdNotifyErrnoCode

/**
 * An error of this package: \`catch (e) { if ((e as SdNotifyError).code === 'ECONNREFUSED') ... }\`.
 * Wrong argument types are \`TypeError\`s (\`ERR_SD_NOTIFY_INVALID_VALUE\` / \`_NUMBER\`).
 */
export interface SdNotifyError extends Error {
  code: SdNotifyErrorCode
}
`
}

if (require.main === module) process.stdout.write(declarations())

module.exports = { declarations, nativeCodes, packageCodes, errnoNames, ERROR_RS }
