'use strict'
// Processes, pid namespaces and cgroup v2 trees of a private systemd, read from /proc and /sys.

const fs = require('node:fs')
const path = require('node:path')
const { readText } = require('./util')

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

/** The host pid of the process that is `nsPid` inside pid namespace `ns` (from NSpid), or null. */
function hostPidOf(ns, nsPid) {
  for (const pid of processesInNamespace(ns)) {
    const status = readText(`/proc/${pid}/status`)
    const line = status && /^NSpid:\s*(.+)$/m.exec(status)
    if (line && Number(line[1].trim().split(/\s+/).pop()) === Number(nsPid)) return pid
  }
  return null
}

/**
 * A cgroup v1 `cpu` group limited to `percent` of one CPU (cfs quota per 100 ms period), for
 * enforcing a CPU quota where the private systemd's cgroup v2 tree has no cpu controller (it
 * then accepts `CPUQuota=` but cannot apply it). Null when there is no writable v1 cpu hierarchy.
 */
function cpuQuotaGroup(name, percent) {
  const root = '/sys/fs/cgroup/cpu'
  const dir = path.join(root, name)
  try {
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000')
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(percent * 1000)))
  } catch {
    try {
      fs.rmdirSync(dir)
    } catch {}
    return null
  }
  return {
    dir,
    add: (hostPid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(hostPid)),
    /** cpu.stat as numbers: nr_periods, nr_throttled, throttled_time (ns). */
    stat: () => Object.fromEntries((readText(path.join(dir, 'cpu.stat')) ?? '').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)])),
    /** Removes the group once its processes are gone (waits up to `timeoutMs`); false if it could not. */
    remove: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        try {
          fs.rmdirSync(dir)
          return true
        } catch (err) {
          if (err.code === 'ENOENT') return true
          if (Date.now() > deadline) return false
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
  }
}

module.exports = { hostPidOf, cpuQuotaGroup, pidNamespaceOf, processesInNamespace, childrenOf, cgroupV2Parent, removeCgroupTree, cgroupTreeProcesses }
