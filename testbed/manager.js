'use strict'
// The handle of a booted systemd: units, properties, the journal, systemd-run, all through
// `execRaw` (nsenter into the private namespaces, or plain exec on the host's manager).

const fs = require('node:fs')
const path = require('node:path')
const { run } = require('./exec')
const { pidNamespaceOf } = require('./proc')
const { sleep, randomId } = require('./util')
const { ROOT_NODE_SPEC } = require('./roots')

const REPO_ROOT = path.resolve(__dirname, '..')
// The node the services run with: SD_NOTIFY_RS_E2E_NODE (the version matrix sets it to the one it
// tests); in a Debian root (SD_NOTIFY_RS_SYSTEMD, testbed/roots.js) the npm registry's Node.js that
// scripts/runtimes.js keeps in the checkout's .cache/ (the root has none; the host's needs a newer glibc).
const NODE =
  process.env.SD_NOTIFY_RS_E2E_NODE ||
  (process.env.SD_NOTIFY_RS_SYSTEMD && process.env.SD_NOTIFY_RS_SYSTEMD !== 'host'
    ? path.join(REPO_ROOT, '.cache', 'runtimes', ROOT_NODE_SPEC.replace(/[/@]/g, '_'), 'package', 'bin', 'node')
    : fs.existsSync('/usr/bin/node')
      ? '/usr/bin/node'
      : process.execPath)

function parseProperties(text) {
  const props = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return props
}

// Methods shared by both modes; `execRaw(cmd, args, opts)` is the mode-specific part.
function makeSystemd({ pid, mode, execRaw, stop, version, nsId, servicesDir = null }) {
  const units = new Set()
  const unitFiles = new Set()
  const sd = {
    mode,
    pid,
    nsId,
    version,
    node: NODE,
    repoRoot: REPO_ROOT,
    servicesDir,
    service: (name) => {
      if (!servicesDir) throw new Error('bootSystemd() was given no servicesDir: service() and runService() need one')
      return path.join(servicesDir, name)
    },

    /** Runs `cmd args` where the manager is; resolves { code, signal, stdout, stderr, ms }. */
    exec: (cmd, args = [], opts = {}) => execRaw(cmd, args, opts),

    /**
     * A unit name unique to this run, remembered so that stop() can clean up a host manager.
     * Given a test context t, the unit is also stopped when that test ends.
     */
    unitName(scenario, t) {
      const name = `e2e-${String(scenario).replace(/[^A-Za-z0-9_.-]/g, '-')}-${randomId()}`
      units.add(`${name}.service`)
      if (t) t.after(() => execRaw('systemctl', ['stop', '--no-block', `${name}.service`]).catch(() => {}))
      return name
    },

    /** `systemctl show -p A,B unit` as an object; props are an array or a comma list. */
    async show(unit, props = ['ActiveState', 'SubState', 'Result']) {
      const list = Array.isArray(props) ? props.join(',') : props
      const r = await execRaw('systemctl', ['show', '-p', list, '--', unit])
      if (r.code !== 0) throw new Error(`systemctl show ${unit} failed (${r.code}): ${r.stderr}`)
      return parseProperties(r.stdout)
    },

    /**
     * Polls show(unit, props) until predicate(state) is true; resolves with that state.
     * Throws with the last state and the unit's journal when the deadline passes.
     */
    async waitFor(unit, predicate, timeoutMs = 10_000, props = WAIT_PROPS) {
      const deadline = Date.now() + timeoutMs
      let state
      for (;;) {
        state = await sd.show(unit, props)
        if (predicate(state)) return state
        if (Date.now() >= deadline) break
        await sleep(50)
      }
      const journal = await sd.journalText(unit).catch((e) => `(journal unavailable: ${e.message})`)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${unit}: ${predicate}\nlast state: ${JSON.stringify(state)}\njournal:\n${journal}`,
      )
    },

    /** `journalctl -u unit -o json`, parsed, oldest first. */
    journal(unit) {
      return sd.journalctl('-u', unit)
    },

    /** `journalctl -a -o json ...filters` (-a: long and binary fields in full), parsed, oldest first. */
    async journalctl(...filters) {
      const r = await execRaw('journalctl', ['--no-pager', '-q', '-a', '-o', 'json', ...filters])
      if (r.code !== 0 && r.code !== 1) throw new Error(`journalctl ${filters.join(' ')} failed (${r.code}): ${r.stderr}`)
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    },

    /** The unit's journal as "SYSLOG_IDENTIFIER[PID]: MESSAGE" lines, for failure messages. */
    async journalText(unit) {
      const entries = await sd.journal(unit)
      return entries
        .map((e) => `  ${e.SYSLOG_IDENTIFIER || '?'}[${e._PID || '?'}]: ${messageOf(e)}`)
        .join('\n')
    },

    /** Polls the unit's journal until an entry's MESSAGE matches (string: includes; RegExp: test). */
    async waitForJournal(unit, match, timeoutMs = 10_000) {
      const test = typeof match === 'string' ? (m) => m.includes(match) : (m) => match.test(m)
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const entries = await sd.journal(unit)
        const hit = entries.find((e) => test(messageOf(e)))
        if (hit) return hit
        if (Date.now() >= deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for journal of ${unit} to contain ${match}\njournal:\n${await sd.journalText(unit)}`,
          )
        }
        await sleep(100)
      }
    },

    /**
     * systemd-run a transient service: `properties` is an object (or array of "K=V");
     * resolves with the exec result once systemd-run returns (for Type=notify: after the start job).
     */
    run(unit, properties, argv, { noBlock = false, timeout } = {}) {
      const props = Array.isArray(properties) ? properties : Object.entries(properties).map(([k, v]) => `${k}=${v}`)
      const args = [`--unit=${unit}`, '--quiet']
      if (noBlock) args.push('--no-block')
      for (const p of props) args.push('-p', p)
      args.push('--', ...argv)
      return execRaw('systemd-run', args, { timeout })
    },

    /** run() with argv `node services/<script> ...args`. */
    runService(unit, properties, script, args = [], opts) {
      return sd.run(unit, properties, [NODE, sd.service(script), ...args.map(String)], opts)
    },

    /** What the unit's services reported with services/report.js, oldest first. */
    async reports(unit) {
      return (await sd.journal(unit))
        .map(messageOf)
        .filter((m) => m.startsWith('E2E '))
        .map((m) => JSON.parse(m.slice(4)))
    },

    /** Polls reports(unit) until one satisfies predicate; resolves with it. */
    async waitForReport(unit, predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = (await sd.reports(unit)).find(predicate)
        if (hit) return hit
        if (Date.now() >= deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for a report from ${unit}: ${predicate}\njournal:\n${await sd.journalText(unit)}`,
          )
        }
        await sleep(50)
      }
    },

    /**
     * Writes /run/systemd/system/<unit>.service (a runtime unit file) and reloads the manager, for
     * tests that want a real unit file and `systemctl start` rather than a transient unit.
     */
    async installUnit(unit, text) {
      const name = /\.(service|socket|timer|path|target)$/.test(unit) ? unit : `${unit}.service`
      const file = `/run/systemd/system/${name}`
      const w = await execRaw('/bin/sh', ['-c', 'cat > "$1"', 'sh', file], { input: text })
      if (w.code !== 0) throw new Error(`writing ${file} failed: ${w.stderr}`)
      unitFiles.add(file)
      units.add(name)
      const r = await execRaw('systemctl', ['daemon-reload'])
      if (r.code !== 0) throw new Error(`systemctl daemon-reload failed: ${r.stderr}`)
      return file
    },

    /** `systemctl verb... unit`. */
    systemctl(...args) {
      return execRaw('systemctl', args)
    },

    stop,
    _units: units,
    _unitFiles: unitFiles,
  }
  return sd
}

const WAIT_PROPS = [
  'ActiveState',
  'SubState',
  'Result',
  'MainPID',
  'StatusText',
  'StatusErrno',
  'NRestarts',
  'ExecMainCode',
  'ExecMainStatus',
]

function messageOf(entry) {
  const m = entry.MESSAGE
  if (Array.isArray(m)) return Buffer.from(m).toString('utf8')
  return m == null ? '' : String(m)
}

async function readVersion(execRaw) {
  const r = await execRaw('systemctl', ['--version'])
  const m = /^systemd (\d+)/.exec(r.stdout)
  if (!m) throw new Error(`cannot parse systemd version from: ${r.stdout}${r.stderr}`)
  return Number(m[1])
}

async function useHostSystemd({ servicesDir } = {}) {
  const execRaw = (cmd, args, opts) => run(cmd, args, opts)
  const version = await readVersion(execRaw)
  let stopped = null
  const sd = makeSystemd({
    servicesDir,
    pid: 1,
    mode: 'host',
    nsId: pidNamespaceOf('self'),
    execRaw,
    version,
    // Never kill anything on the host: only the units these tests created.
    stop: () =>
      (stopped ??= (async () => {
        for (const unit of sd._units) {
          await run('systemctl', ['stop', unit]).catch(() => {})
          await run('systemctl', ['reset-failed', unit]).catch(() => {})
        }
        for (const file of sd._unitFiles) fs.rmSync(file, { force: true })
        if (sd._unitFiles.size) await run('systemctl', ['daemon-reload']).catch(() => {})
      })()),
  })
  return sd
}

module.exports = { makeSystemd, useHostSystemd, readVersion, messageOf, NODE, REPO_ROOT }
