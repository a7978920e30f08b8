'use strict'

// End-to-end harness: a real systemd to start units under.
//
// Where systemd is not PID 1 (the machines and CI here), it boots a private systemd as PID 1 of
// its own pid/mount/uts/ipc/cgroup/net namespaces, on an overlay whose upper layer is a tmpfs, so
// nothing the boot writes (systemd-tmpfiles empties /tmp!) reaches the host. See
// /work/shared/TESTING.md. Where systemd already is PID 1 and we are root, it uses that manager.
// The private systemd also gets a cgroup v2 subtree of its own (a child of ours, as the root of
// its cgroup namespace), so two test files can boot one each at the same time.
//
// Usage in a test file (node:test):
//
//   const { useSystemd } = require('./harness')
//   const e2e = useSystemd({ binds: [] })    // before: boot once per file; after: stop
//   test('behaviour', async (t) => {
//     const sd = e2e.orSkip(t)               // null after a loud t.skip() when unavailable
//     if (!sd) return
//     const unit = sd.unitName('scenario', t) // e2e-scenario-<random>, stopped when t ends
//     const r = await sd.runService(unit, { Type: 'notify' }, 'some-service.js', ['arg'])
//     await sd.waitFor(unit, (s) => s.ActiveState === 'active', 5000)
//   })
//
// Unavailable (not root, no namespaces) means skipped loudly, except with CI=true, where the
// before hook throws the E2E_UNAVAILABLE error and every test of the file fails.
//
// The handle bootSystemd() resolves with:
//   pid, nsId, mode ('namespace' | 'host'), version (e.g. 252), bootState, cgroup
//   exec(cmd, args, { timeout, env, input }) -> { code, signal, stdout, stderr, ms }, run where the manager is
//   systemctl(...args), run(unit, props, argv, { noBlock }) (systemd-run), runService(unit, props, script, args)
//   installUnit(unit, text): a unit file in /run/systemd/system + daemon-reload
//   show(unit, props) -> { Prop: 'value' }; waitFor(unit, predicate, timeoutMs, props) -> state
//   journal(unit) -> entries of `journalctl -u unit -o json`; journalText(unit); waitForJournal(unit, match)
//   reports(unit), waitForReport(unit, predicate): lines the services wrote with services/report.js
//   unitName(scenario, t?), service(file) (absolute path in services/), node (absolute node path)
//   stop(): kill -9 PID 1 of the namespace and wait until its processes, cgroup and temp dir are
//   gone; idempotent; also done on process 'exit', and by a reaper process if we die by SIGKILL.
//   With the host's systemd, stop() only stops the units made through unitName()/installUnit().

const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const REPO_ROOT = path.resolve(__dirname, '..', '..')
const SERVICES_DIR = path.join(__dirname, 'services')
const NODE = fs.existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath
const SYSTEMD = '/lib/systemd/systemd'
const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const BOOT_TIMEOUT_MS = 60_000
const DEFAULT_EXEC_TIMEOUT_MS = 30_000

// Units of this machine's image that only slow the private boot down or reach outside it
// (console-getty opens the host's /dev/console through the bind-mounted /dev).
const DEFAULT_MASK = [
  'postgresql.service',
  'postgresql@.service',
  'console-getty.service',
  'getty@.service',
  'serial-getty@.service',
  'e2scrub_reap.service',
  'systemd-tmpfiles-clean.timer',
]

class E2EUnavailableError extends Error {
  constructor(reason) {
    super(`systemd end-to-end tests are unavailable here: ${reason}`)
    this.name = 'E2EUnavailableError'
    this.code = 'E2E_UNAVAILABLE'
    this.reason = reason
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Sleeps without returning to the event loop; only for the process 'exit' handler.
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

// Resolves with the promise's value, or undefined after ms; the timer never keeps us alive.
function withTimeout(promise, ms) {
  let timer
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  )
}

function randomId() {
  return crypto.randomBytes(4).toString('hex')
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

function tail(text, lines = 40) {
  return (text || '').trimEnd().split('\n').slice(-lines).join('\n')
}

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

function parseProperties(text) {
  const props = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return props
}

// The pid namespace a process lives in, as the kernel names it ("pid:[4026532...]"), or null.
function pidNamespaceOf(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`)
  } catch {
    return null
  }
}

// Host pids of every process whose pid namespace is `ns`.
function processesInNamespace(ns) {
  const pids = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    if (pidNamespaceOf(entry) === ns) pids.push(Number(entry))
  }
  return pids
}

function childrenOf(pid) {
  const viaProc = readText(`/proc/${pid}/task/${pid}/children`)
  if (viaProc !== null) return viaProc.split(/\s+/).filter(Boolean).map(Number)
  const children = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readText(`/proc/${entry}/stat`)
    if (!stat) continue
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === pid) children.push(Number(entry))
  }
  return children
}

// The cgroup v2 hierarchy as mounted here and our place in it: the private systemd gets a child
// cgroup of ours as its cgroup namespace root, so its cgroup tree cannot collide with the host's
// or with another private systemd booted concurrently by another test file.
function cgroupV2Parent() {
  const mounts = readText('/proc/self/mountinfo') || ''
  let mountPoint = null
  for (const line of mounts.split('\n')) {
    const [pre, post] = line.split(' - ')
    if (!post || !post.startsWith('cgroup2 ')) continue
    const fields = pre.split(' ')
    if (fields[3] !== '/') continue
    if (fields[4] === '/sys/fs/cgroup' || (fields[4] === '/sys/fs/cgroup/unified' && !mountPoint)) mountPoint = fields[4]
  }
  if (!mountPoint) return null
  const own = (readText('/proc/self/cgroup') || '').split('\n').find((l) => l.startsWith('0::'))
  if (!own) return null
  const dir = path.join(mountPoint, own.slice(3).trim())
  try {
    fs.accessSync(dir, fs.constants.W_OK)
  } catch {
    return null
  }
  return dir
}

function removeCgroupTree(dir) {
  if (!fs.existsSync(dir)) return true
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name))
    fs.rmdirSync(d)
  }
  try {
    walk(dir)
    return true
  } catch {
    return false
  }
}

function cgroupTreeProcesses(dir) {
  const pids = []
  const walk = (d) => {
    let entries
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const p of (readText(path.join(d, 'cgroup.procs')) || '').split('\n')) if (p) pids.push(Number(p))
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name))
  }
  walk(dir)
  return pids
}

// The script run as PID 1 of the new namespaces. Arguments: $1 = mount point for the tmpfs
// (an empty directory), $2.. = host directories to bind read-write at the same path inside.
// `set -e` and the final overlay check guarantee systemd is never exec'd on the host's root.
const INNER_SCRIPT = String.raw`
set -eu
B=$1; shift
mount --make-rprivate /
mount -t tmpfs -o mode=0700 sd-e2e "$B"
mkdir "$B/upper" "$B/work" "$B/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$B/upper,workdir=$B/work" "$B/root"
R=$B/root
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
if [ "$E2E_CGROUP2" = 1 ]; then
  umount -R "$R/sys/fs/cgroup"
  mount -t cgroup2 -o nsdelegate cgroup2 "$R/sys/fs/cgroup"
fi
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
for d in "$@"; do
  if [ -d "$d" ]; then mkdir -p "$R$d"; else mkdir -p "$(dirname "$R$d")"; touch "$R$d"; fi
  mount --bind "$d" "$R$d"
done
# /tmp and /var/tmp are never systemd-tmpfiles' business in here: binds may live below them.
mkdir -p "$R/etc/tmpfiles.d"
: > "$R/etc/tmpfiles.d/tmp.conf"
mkdir -p "$R/etc/systemd/system"
for u in $E2E_MASK; do ln -sfn /dev/null "$R/etc/systemd/system/$u"; done
mkdir -p "$R/run/systemd/system" "$R/oldroot"
cd "$R"
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot
[ "$(stat -f -c %T /)" = overlayfs ] || { echo "refusing to boot: / is not the overlay" >&2; exit 1; }
export container=other
exec ${SYSTEMD} --system --unit=multi-user.target
`

// The launcher: joins the private cgroup (when there is one), then becomes unshare.
const LAUNCH_SCRIPT = String.raw`
cg=$1; inner=$2; shift 2
if [ -n "$cg" ]; then echo $$ > "$cg/cgroup.procs" || exit 97; fi
exec unshare --pid --fork --mount --uts --ipc --cgroup --net /bin/sh -c "$inner" sd-e2e-init "$@"
`

// Outlives us if we are killed without running 'exit' handlers (SIGKILL, a crash): it waits for
// its stdin, a pipe from us, to reach EOF, then ends the namespace and removes what we created.
const REAPER_SCRIPT = String.raw`
p=$1; cg=$2; dir=$3
while read -r _; do :; done
if [ "$(cat /proc/$p/comm 2>/dev/null)" = systemd ]; then kill -9 "$p" 2>/dev/null; fi
i=0
while [ -n "$cg" ] && [ -d "$cg" ] && [ $i -lt 100 ]; do
  find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || sleep 0.1
  i=$((i + 1))
done
rm -f "$dir/boot.log"; rmdir "$dir/mnt" "$dir" 2>/dev/null
`

function checkPrerequisites() {
  if (process.platform !== 'linux') throw new E2EUnavailableError(`platform is ${process.platform}, not linux`)
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new E2EUnavailableError('not running as root (booting a private systemd needs CAP_SYS_ADMIN)')
  }
  for (const bin of [SYSTEMD, '/usr/bin/unshare', '/usr/bin/nsenter', '/bin/sh']) {
    if (!fs.existsSync(bin)) throw new E2EUnavailableError(`${bin} is missing`)
  }
}

function hostSystemdUsable() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false
  if (!fs.existsSync('/run/systemd/system')) return false
  return (readText('/proc/1/comm') || '').trim() === 'systemd'
}

// Methods shared by both modes; `execRaw(cmd, args, opts)` is the mode-specific part.
function makeSystemd({ pid, mode, execRaw, stop, version, nsId }) {
  const units = new Set()
  const unitFiles = new Set()
  const sd = {
    mode,
    pid,
    nsId,
    version,
    node: NODE,
    repoRoot: REPO_ROOT,
    servicesDir: SERVICES_DIR,
    service: (name) => path.join(SERVICES_DIR, name),

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
    async journal(unit) {
      const r = await execRaw('journalctl', ['--no-pager', '-q', '-o', 'json', '-u', unit])
      if (r.code !== 0 && r.code !== 1) throw new Error(`journalctl -u ${unit} failed (${r.code}): ${r.stderr}`)
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
      const name = unit.endsWith('.service') ? unit : `${unit}.service`
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

async function useHostSystemd() {
  const execRaw = (cmd, args, opts) => run(cmd, args, opts)
  const version = await readVersion(execRaw)
  let stopped = null
  const sd = makeSystemd({
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

/**
 * Boots a private systemd (or uses the host's when it is PID 1).
 * options.binds: extra host directories (or files) made visible read-write at the same path inside;
 * the repository checkout is always bound. options.mask: units to mask in the private boot.
 * options.mode: 'auto' (default), 'namespace' or 'host'; also from SD_NOTIFY_E2E_MODE.
 */
async function bootSystemd({ binds = [], mask = DEFAULT_MASK, mode } = {}) {
  mode = mode || process.env.SD_NOTIFY_E2E_MODE || 'auto'
  if (mode === 'host' || (mode === 'auto' && hostSystemdUsable())) {
    if (!hostSystemdUsable()) throw new E2EUnavailableError('host mode asked for, but systemd is not PID 1 here')
    return useHostSystemd()
  }
  checkPrerequisites()

  const bindList = [...new Set([REPO_ROOT, ...binds].map((d) => path.resolve(d)))].sort(
    (a, b) => a.length - b.length,
  )
  for (const d of bindList) if (!fs.existsSync(d)) throw new Error(`bind source ${d} does not exist`)

  // The tmpfs mount point is an empty host directory; the tmpfs itself is private to the namespace.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-'))
  const mnt = path.join(dir, 'mnt')
  fs.mkdirSync(mnt)
  const logFile = path.join(dir, 'boot.log')
  const logFd = fs.openSync(logFile, 'a')

  let cgroup = null
  const cgParent = cgroupV2Parent()
  if (cgParent) {
    cgroup = path.join(cgParent, `sd-e2e-${process.pid}-${randomId()}`)
    try {
      fs.mkdirSync(cgroup)
    } catch {
      cgroup = null
    }
  }

  const launcher = cp.spawn('/bin/sh', ['-c', LAUNCH_SCRIPT, 'sd-e2e-launch', cgroup || '', INNER_SCRIPT, mnt, ...bindList], {
    detached: true, // setsid: no terminal, not in our process group's signals
    stdio: ['ignore', logFd, logFd],
    env: { PATH: CLEAN_PATH, LANG: 'C.UTF-8', E2E_CGROUP2: cgroup ? '1' : '0', E2E_MASK: mask.join(' ') },
  })
  fs.closeSync(logFd)
  // Not what keeps us alive: a script that forgets stop() still exits, and 'exit' cleans up.
  launcher.unref()
  let launcherExit = null
  const launcherExited = new Promise((resolve) => {
    launcher.on('exit', (code, signal) => {
      launcherExit = { code, signal }
      resolve(launcherExit)
    })
    launcher.on('error', (err) => {
      launcherExit = { code: null, signal: null, error: err }
      resolve(launcherExit)
    })
  })

  let pid = null
  let nsId = null
  let reaper = null
  let stopPromise = null

  const cleanupFiles = () => {
    try {
      fs.rmSync(logFile, { force: true })
      fs.rmdirSync(mnt)
      fs.rmdirSync(dir)
    } catch {}
  }

  // Synchronous, for process 'exit': kill PID 1 of the namespace, then give the kernel a moment
  // so the cgroup can be removed; the reaper finishes whatever is left once we are gone.
  const onExit = () => {
    if (stopPromise) return
    if (pid && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
      const deadline = Date.now() + 2000
      while (Date.now() < deadline && cgroup && cgroupTreeProcesses(cgroup).length) sleepSync(20)
    }
    if (cgroup) removeCgroupTree(cgroup)
    cleanupFiles()
  }
  process.on('exit', onExit)

  const stop = () =>
    (stopPromise ??= (async () => {
      process.removeListener('exit', onExit)
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch (err) {
          if (err.code !== 'ESRCH') throw err
        }
      } else if (launcher.pid && launcherExit === null) {
        try {
          process.kill(-launcher.pid, 'SIGKILL')
        } catch {}
      }
      const deadline = Date.now() + 15_000
      await withTimeout(launcherExited, 15_000)
      for (;;) {
        const left = [
          ...(nsId ? processesInNamespace(nsId) : []),
          ...(cgroup ? cgroupTreeProcesses(cgroup) : []),
        ]
        if (left.length === 0 && (!cgroup || removeCgroupTree(cgroup))) break
        if (Date.now() >= deadline) {
          throw new Error(`private systemd (pid ${pid}) did not go away: processes left ${left.join(' ')}`)
        }
        await sleep(20)
      }
      cleanupFiles()
      if (reaper) {
        try {
          process.kill(reaper.pid, 'SIGKILL')
        } catch {}
      }
    })())

  const fail = async (err) => {
    await stop().catch(() => {})
    throw err
  }

  // Find PID 1 of the namespace: the child of unshare, once it has exec'd systemd.
  const deadline = Date.now() + BOOT_TIMEOUT_MS
  while (pid === null) {
    if (launcherExit) {
      const log = tail(readText(logFile))
      return fail(
        new E2EUnavailableError(
          `could not set up the private namespaces (launcher exited with ${JSON.stringify(launcherExit)}):\n${log}`,
        ),
      )
    }
    const [child] = childrenOf(launcher.pid)
    if (child && (readText(`/proc/${child}/comm`) || '').trim() === 'systemd') pid = child
    else if (Date.now() >= deadline) return fail(new Error(`systemd did not start within ${BOOT_TIMEOUT_MS} ms:\n${tail(readText(logFile))}`))
    else await sleep(10)
  }

  nsId = pidNamespaceOf(pid)
  reaper = cp.spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'sd-e2e-reaper', String(pid), cgroup || '', dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: CLEAN_PATH },
  })
  reaper.unref()
  reaper.stdin.unref?.()
  reaper.stdin.on('error', () => {})

  const nsenter = ['-t', String(pid), '-a', '-r', '-w']
  const execRaw = (cmd, args, opts) => run('nsenter', [...nsenter, cmd, ...args], opts)

  // Wait for the boot to finish: is-system-running says running (or degraded: some unit failed).
  let state
  for (;;) {
    if (!isAlive(pid) || launcherExit) {
      return fail(new Error(`private systemd died during boot:\n${tail(readText(logFile))}`))
    }
    const r = await execRaw('systemctl', ['is-system-running'], { timeout: 10_000 }).catch((e) => ({ stdout: e.message }))
    state = r.stdout.trim()
    if (state === 'running' || state === 'degraded') break
    if (Date.now() >= deadline) {
      return fail(new Error(`private systemd not up after ${BOOT_TIMEOUT_MS} ms (state "${state}"):\n${tail(readText(logFile))}`))
    }
    await sleep(50)
  }

  const lo = await execRaw('ip', ['link', 'set', 'lo', 'up'])
  if (lo.code !== 0) return fail(new Error(`ip link set lo up failed: ${lo.stderr}`))
  const version = await readVersion(execRaw).catch(fail)

  const sd = makeSystemd({ pid, mode: 'namespace', nsId, execRaw, stop, version })
  sd.bootState = state
  sd.cgroup = cgroup
  return sd
}

const unavailableBanner = new Set()

/**
 * Registers before/after hooks that boot one systemd for the calling test file and stop it.
 * Returns { orSkip(t) }: the systemd handle, or null after skipping t loudly when e2e is
 * unavailable here. With CI=true unavailability fails instead: the before hook throws.
 */
function useSystemd(options = {}) {
  const { before, after } = require('node:test')
  const state = { sd: null, unavailable: null }
  before(async () => {
    try {
      state.sd = await bootSystemd(options)
    } catch (err) {
      if (err.code !== 'E2E_UNAVAILABLE') throw err
      if (process.env.CI === 'true') {
        err.message += ' (CI=true: the end-to-end tests must run in CI, so this is a failure)'
        throw err
      }
      state.unavailable = err
    }
  }, { timeout: BOOT_TIMEOUT_MS + 20_000 })
  after(async () => {
    if (state.sd) await state.sd.stop()
  }, { timeout: 30_000 })
  return {
    get sd() {
      return state.sd
    },
    orSkip: (t) => e2eOrSkip(t, state),
  }
}

/** The booted systemd, or null after t.skip(reason) and a banner on stderr (once per reason). */
function e2eOrSkip(t, state) {
  if (state.sd) return state.sd
  const reason = state.unavailable ? state.unavailable.reason : 'systemd was not booted (before hook did not run?)'
  if (!unavailableBanner.has(reason)) {
    unavailableBanner.add(reason)
    const line = '!'.repeat(78)
    console.error(`\n${line}\n!! SKIPPING systemd end-to-end tests: ${reason}\n${line}\n`)
  }
  t.skip(`systemd e2e unavailable: ${reason}`)
  return null
}

module.exports = {
  bootSystemd,
  useSystemd,
  e2eOrSkip,
  E2EUnavailableError,
  processesInNamespace,
  pidNamespaceOf,
  REPO_ROOT,
  SERVICES_DIR,
  NODE,
  sleep,
}
