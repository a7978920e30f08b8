'use strict'
// The npm CLI script behind `npm` on PATH, to run with a given node (the one running the caller,
// or a runtime under test), so that npm and that node match.
const fs = require('node:fs')
const path = require('node:path')

function npmCli() {
  if (process.env.npm_execpath?.endsWith('.js')) return process.env.npm_execpath
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm')
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate)
  }
  throw new Error('npm is not on PATH')
}

module.exports = { npmCli }
