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

module.exports = { pidNamespaceOf, processesInNamespace, childrenOf, cgroupV2Parent, removeCgroupTree, cgroupTreeProcesses }
