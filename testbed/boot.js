'use strict'
// A real systemd to start units under, for the e2e tests, the demo and the benchmarks.
//
// Where systemd is not PID 1 (the machines and CI here), it boots a private systemd as PID 1 of
// its own pid/mount/uts/ipc/cgroup/net namespaces, on an overlay whose upper layer is a tmpfs, so
// nothing the boot writes (systemd-tmpfiles empties /tmp!) reaches the host. See
// testbed/README.md. Where systemd already is PID 1 and we are root, it uses that manager.
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
//   pid, nsId, mode ('namespace' | 'host'), version (e.g. 252), bootState, cgroup,
//   suite (the Debian root booted: 'bullseye', 'trixie', or null for the host's), nativePath (the
//   addon binary the services load in that root, or null: the loader's own choice)
//   exec(cmd, args, { timeout, env, input }) -> { code, signal, stdout, stderr, ms }, run where the manager is
//   systemctl(...args), run(unit, props, argv, { noBlock }) (systemd-run), runService(unit, props, script, args)
//   installUnit(unit, text): a unit file in /run/systemd/system + daemon-reload
//   show(unit, props) -> { Prop: 'value' }; waitFor(unit, predicate, timeoutMs, props) -> state
//   journal(unit) -> entries of `journalctl -u unit -o json`; journalctl(...filters) -> the same for any filters;
//   journalText(unit); waitForJournal(unit, match)
//   reports(unit), waitForReport(unit, predicate): lines the services wrote with services/report.js
//   unitName(scenario, t?), service(file) (absolute path in services/), node (absolute node path)
//   stop(): kill -9 PID 1 of the namespace and wait until its processes, cgroup and temp dir are
//   gone; idempotent; also done on process 'exit', and by a reaper process if we die by SIGKILL.
//   With the host's systemd, stop() only stops the units made through unitName()/installUnit().


const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { run, CLEAN_PATH } = require('./exec')
const { makeSystemd, useHostSystemd, readVersion, REPO_ROOT, NODE } = require('./manager')
const { SUITES, RELEASE_BINARY, rootDir, checkSuite } = require('./roots')
const { pidNamespaceOf, processesInNamespace, childrenOf, cgroupV2Parent, removeCgroupTree, cgroupTreeProcesses } = require('./proc')
const { sleep, sleepSync, withTimeout, randomId, isAlive, readText, tail } = require('./util')

const SYSTEMD = '/lib/systemd/systemd'
const BOOT_TIMEOUT_MS = 60_000
const SCRIPTS = path.join(__dirname, 'scripts')

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

/**
 * What booting `suite`'s Debian root (testbed/roots.js) needs: the root as the overlay's lower
 * layer, the node and the release binary the services use there (bound in when outside the
 * checkout), and the environment that makes the addon's loader take that binary
 * (SD_NOTIFY_RS_NATIVE_PATH: the only place it then looks, so a binary that cannot load there
 * fails loudly rather than a fallback passing). SD_NOTIFY_RS_E2E_NATIVE_PATH picks another binary
 * (e.g. the host build, to watch it fail on bullseye's glibc).
 */
function suiteSetup(suite) {
  checkSuite(suite)
  const lower = rootDir(suite)
  if (!fs.existsSync(path.join(lower, '.complete'))) {
    throw Object.assign(new Error(`the ${suite} root is not made yet: run \`node testbed/roots.js ${suite}\` (or scripts/systemd-matrix.js) first`), {
      code: 'E2E_ROOT_MISSING',
    })
  }
  const native = path.resolve(process.env.SD_NOTIFY_RS_E2E_NATIVE_PATH || RELEASE_BINARY)
  if (!fs.existsSync(native)) {
    throw new Error(`${native} is missing: the ${suite} root runs the release binary; build it with \`npm run build:all -- --target x86_64-unknown-linux-gnu\``)
  }
  if (!process.env.SD_NOTIFY_RS_E2E_NODE && process.env.SD_NOTIFY_RS_SYSTEMD !== suite) {
    // NODE (what the tests put in their units) was chosen at require() time, for the host's root.
    throw new Error(`the suite option (${suite}) needs SD_NOTIFY_RS_SYSTEMD=${suite} or SD_NOTIFY_RS_E2E_NODE set before the harness loads: ${NODE} does not run in that root`)
  }
  if (!fs.existsSync(NODE)) {
    throw new Error(`${NODE} is missing: the ${suite} root runs a Node.js from the npm registry; fetch it with \`node scripts/systemd-matrix.js --prepare\` or set SD_NOTIFY_RS_E2E_NODE`)
  }
  if (!fs.existsSync(path.join(lower, SYSTEMD))) throw new Error(`${path.join(lower, SYSTEMD)} is missing: remake the ${suite} root (rm -r ${lower})`)
  return { lower, native, extraBinds: [native, NODE], env: { SD_NOTIFY_RS_NATIVE_PATH: native } }
}

/**
 * Boots a private systemd (or uses the host's when it is PID 1).
 * options.binds: extra host directories (or files) made visible read-write at the same path inside;
 * the repository checkout is always bound. options.mask: units to mask in the private boot.
 * options.mode: 'auto' (default), 'namespace' or 'host'; also from SD_NOTIFY_E2E_MODE.
 * options.suite: a Debian suite whose root (testbed/roots.js) to boot instead of the host's `/`
 * ('bullseye': systemd 247, 'trixie': 257); also from SD_NOTIFY_RS_SYSTEMD; none or 'host': the
 * host's root. A suite always boots in namespace mode.
 * options.servicesDir: where service(file) and runService() find their scripts.
 */
async function bootSystemd({ binds = [], mask = DEFAULT_MASK, mode, servicesDir, suite } = {}) {
  mode = mode || process.env.SD_NOTIFY_E2E_MODE || 'auto'
  suite = suite ?? process.env.SD_NOTIFY_RS_SYSTEMD
  if (suite === 'host' || suite === '') suite = undefined
  if (suite && mode === 'host') throw new Error(`systemd suite ${suite} asked for in host mode: a suite's root boots in namespace mode only`)
  if (!suite && (mode === 'host' || (mode === 'auto' && hostSystemdUsable()))) {
    if (!hostSystemdUsable()) throw new E2EUnavailableError('host mode asked for, but systemd is not PID 1 here')
    return useHostSystemd({ servicesDir })
  }
  checkPrerequisites()
  const setup = suite ? suiteSetup(suite) : null
  // Bound by inner.sh in this order: a file or directory below a bound directory comes after it.
  const inRepo = (p) => p === REPO_ROOT || p.startsWith(`${REPO_ROOT}/`)
  const extra = setup ? setup.extraBinds.filter((p) => !inRepo(p)) : []

  const bindList = [...new Set([REPO_ROOT, ...binds, ...extra].map((d) => path.resolve(d)))].sort(
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

  const launcher = cp.spawn('/bin/sh', [path.join(SCRIPTS, 'launch.sh'), cgroup || '', path.join(SCRIPTS, 'inner.sh'), mnt, ...bindList], {
    detached: true, // setsid: no terminal, not in our process group's signals
    stdio: ['ignore', logFd, logFd],
    env: {
      PATH: CLEAN_PATH,
      LANG: 'C.UTF-8',
      E2E_CGROUP2: cgroup ? '1' : '0',
      E2E_MASK: mask.join(' '),
      E2E_SYSTEMD: SYSTEMD,
      E2E_LOWER: setup ? setup.lower : '/',
      // Quoted: DefaultEnvironment= splits on spaces, and a checkout's path may have one.
      E2E_ENVIRONMENT: setup ? Object.entries(setup.env).map(([k, v]) => `"${k}=${v}"`).join(' ') : '',
    },
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
  reaper = cp.spawn('/bin/sh', [path.join(SCRIPTS, 'reaper.sh'), String(pid), cgroup || '', dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: CLEAN_PATH },
  })
  reaper.unref()
  reaper.stdin.unref?.()
  reaper.stdin.on('error', () => {})

  const nsenter = ['-t', String(pid), '-a', '-r', '-w']
  const execRaw = (cmd, args, opts = {}) => run('nsenter', [...nsenter, cmd, ...args], setup ? { ...opts, env: { ...setup.env, ...opts.env } } : opts)

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

  // The host's ip, in the private network namespace only: a minbase root has no iproute2.
  const lo = await run('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', 'lo', 'up'])
  if (lo.code !== 0) return fail(new Error(`ip link set lo up failed: ${lo.stderr}`))
  const version = await readVersion(execRaw).catch(fail)
  if (suite && version !== SUITES[suite].systemd) {
    return fail(new Error(`the ${suite} root booted systemd ${version}, not ${SUITES[suite].systemd}: remake it (rm -r ${setup.lower})`))
  }

  const sd = makeSystemd({ pid, mode: 'namespace', nsId, execRaw, stop, version, servicesDir })
  sd.bootState = state
  sd.cgroup = cgroup
  sd.suite = suite ?? null
  sd.nativePath = setup ? setup.native : null
  return sd
}

module.exports = { bootSystemd, E2EUnavailableError, BOOT_TIMEOUT_MS, DEFAULT_MASK }
