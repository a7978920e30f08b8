'use strict'
// Running a command to completion, as the e2e harness does everywhere.

const cp = require('node:child_process')
const { tail } = require('./util')

const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const DEFAULT_EXEC_TIMEOUT_MS = 30_000

// Runs a command to completion in its own process group, so a timeout kills everything it started
// (nsenter forks to enter the pid namespace; killing nsenter alone would leave the child running).
function run(cmd, args, { timeout = DEFAULT_EXEC_TIMEOUT_MS, env, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = cp.spawn(cmd, args, {
      detached: true,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { PATH: CLEAN_PATH, LANG: 'C.UTF-8', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0', ...env },
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    if (input !== undefined) child.stdin.end(input)
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeout)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const result = { code, signal, stdout, stderr, ms: Date.now() - started }
      if (timedOut) {
        const err = new Error(
          `timed out after ${timeout} ms: ${[cmd, ...args].join(' ')}\nstdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`,
        )
        err.result = result
        reject(err)
      } else {
        resolve(result)
      }
    })
  })
}

module.exports = { run, CLEAN_PATH, DEFAULT_EXEC_TIMEOUT_MS }
