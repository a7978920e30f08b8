'use strict'

// Proves the e2e harness itself, without the addon: a private systemd boots, runs Type=notify
// units (notified by a python3 one-liner), reports their outcome, and vanishes on stop() without
// touching the host's /tmp.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { useSystemd, processesInNamespace, pidNamespaceOf } = require('./harness')
const { SUITES } = require('../../testbed/roots')

// Sends its argument to $NOTIFY_SOCKET as one datagram, like sd_notify(3), after sleeping argv[2] s.
const PY_NOTIFY = [
  'import os, socket, sys, time',
  'time.sleep(float(sys.argv[2]))',
  'a = os.environ["NOTIFY_SOCKET"]',
  'a = "\\0" + a[1:] if a.startswith("@") else a',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.sendto(sys.argv[1].encode(), a)',
  'time.sleep(3600)',
].join('\n')

// Made before booting: a file in the host's /tmp (systemd's boot must not reach it) and a
// directory below /tmp bound into the namespace (systemd-tmpfiles must not empty it either).
const hostMarker = path.join(os.tmpdir(), `sd-e2e-marker-${process.pid}`)
const bindDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-e2e-bind-'))
const bindMarker = path.join(bindDir, 'marker')

before(() => {
  fs.writeFileSync(hostMarker, 'host /tmp must survive\n')
  fs.writeFileSync(bindMarker, 'bound dir must survive\n')
})
after(() => {
  fs.rmSync(hostMarker, { force: true })
  fs.rmSync(bindDir, { recursive: true, force: true })
})

const e2e = useSystemd({ binds: [bindDir] })

test('boots a systemd that reaches running or degraded and reports its version', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  assert.ok(Number.isInteger(sd.version) && sd.version >= 200, `version ${sd.version}`)
  const r = await sd.exec('systemctl', ['is-system-running'])
  assert.match(r.stdout.trim(), /^(running|degraded)$/)
  if (sd.mode === 'namespace') {
    const comm = await sd.exec('cat', ['/proc/1/comm'])
    assert.equal(comm.stdout.trim(), 'systemd')
    // lo has 127.0.0.1 once it is up (a minbase root has no `ip`; the services' node is there).
    const lo = await sd.exec(sd.node, ['-p', "JSON.stringify(require('node:os').networkInterfaces().lo || [])"])
    assert.match(lo.stdout, /127\.0\.0\.1/, lo.stderr)
  }
  if (sd.suite) assert.equal(sd.version, SUITES[sd.suite].systemd, `the ${sd.suite} root boots its own systemd`)
})

test("in a Debian root: the services' node runs there, and the addon loads the release binary there", async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  if (!sd.suite) return t.skip("boots the host's root: no Debian root (SD_NOTIFY_RS_SYSTEMD=bullseye|trixie)")
  const rel = await sd.exec('cat', ['/etc/os-release'])
  assert.match(rel.stdout, new RegExp(`VERSION_CODENAME=${sd.suite}`))
  // Loaded in a unit, as the services load it: the manager's environment names the binary.
  const unit = sd.unitName('harness-addon')
  const script = "const sd = require(process.argv[1]); console.log('E2E_ADDON', process.env.SD_NOTIFY_RS_NATIVE_PATH, typeof sd.ready, sd.booted())"
  const r = await sd.run(unit, { Type: 'oneshot' }, [sd.node, '-e', script, sd.repoRoot])
  assert.equal(r.code, 0, `${r.stderr}\n${await sd.journalText(unit)}`)
  const line = await sd.waitForJournal(unit, /^E2E_ADDON /)
  assert.equal(line.MESSAGE, `E2E_ADDON ${sd.nativePath} function true`)
})

test('binds the checkout and extra directories read-write at the same path', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const seen = await sd.exec('cat', [bindMarker])
  assert.equal(seen.code, 0, seen.stderr)
  assert.equal(seen.stdout, 'bound dir must survive\n')
  const written = path.join(bindDir, 'from-inside')
  const w = await sd.exec('/bin/sh', ['-c', 'echo hello > "$1"', 'sh', written])
  assert.equal(w.code, 0, w.stderr)
  assert.equal(fs.readFileSync(written, 'utf8'), 'hello\n')
  const pkg = await sd.exec('test', ['-f', path.join(sd.repoRoot, '__test__', 'e2e', 'harness.js')])
  assert.equal(pkg.code, 0)
})

/** The systemd, or null after a skip: the notifier is a python3 one-liner, not in a minbase root. */
async function withPython(t) {
  const sd = e2e.orSkip(t)
  if (!sd) return null
  if ((await sd.exec('test', ['-x', '/usr/bin/python3'])).code !== 0) {
    t.skip(`no /usr/bin/python3 in the ${sd.suite || 'host'} root (debootstrap minbase): the harness's python notifier cannot run`)
    return null
  }
  return sd
}

test('a Type=notify unit becomes active only after READY=1 arrives', async (t) => {
  const sd = await withPython(t)
  if (!sd) return
  const unit = sd.unitName('harness-ready')
  const r = await sd.run(unit, { Type: 'notify' }, ['/usr/bin/python3', '-c', PY_NOTIFY, 'READY=1\nSTATUS=up', '0.5'])
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.ms >= 450, `start returned after ${r.ms} ms, before READY=1 was sent`)
  const state = await sd.show(`${unit}.service`, ['ActiveState', 'SubState', 'StatusText', 'Type'])
  assert.deepEqual(state, { ActiveState: 'active', SubState: 'running', StatusText: 'up', Type: 'notify' })
  await sd.systemctl('stop', unit)
})

test('a Type=notify unit that never sends READY=1 fails with Result=timeout', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('harness-timeout')
  const r = await sd.run(unit, { Type: 'notify', TimeoutStartSec: 2 }, ['/bin/sleep', '3600'])
  assert.notEqual(r.code, 0)
  assert.ok(r.ms >= 1900, `failed after ${r.ms} ms, before TimeoutStartSec=2`)
  const state = await sd.show(unit, ['ActiveState', 'Result'])
  assert.deepEqual(state, { ActiveState: 'failed', Result: 'timeout' })
  const failed = (await sd.journal(unit)).find((e) => e.UNIT_RESULT)
  assert.equal(failed && failed.UNIT_RESULT, 'timeout')
})

test('waitFor resolves with the matching state and throws with the last state on deadline', async (t) => {
  const sd = await withPython(t)
  if (!sd) return
  const unit = sd.unitName('harness-wait')
  const r = await sd.run(unit, { Type: 'notify' }, ['/usr/bin/python3', '-c', PY_NOTIFY, 'READY=1', '0'])
  assert.equal(r.code, 0, r.stderr)
  const state = await sd.waitFor(unit, (s) => s.ActiveState === 'active', 5000)
  assert.equal(state.SubState, 'running')
  await assert.rejects(
    sd.waitFor(unit, (s) => s.ActiveState === 'failed', 300),
    (err) => /last state: .*"ActiveState":"active"/.test(err.message),
  )
  await sd.systemctl('stop', unit)
})

test('stop() ends every process of the namespace, is idempotent, and leaves the host /tmp alone', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  if (sd.mode !== 'namespace') return t.skip('uses the host systemd: nothing to stop')
  // Something long-running inside, to prove it goes too.
  const unit = sd.unitName('harness-linger')
  await sd.run(unit, { Type: 'exec' }, ['/bin/sleep', '3600'])
  assert.ok(processesInNamespace(sd.nsId).length > 1)
  await Promise.all([sd.stop(), sd.stop()])
  await sd.stop()
  assert.deepEqual(processesInNamespace(sd.nsId), [])
  assert.equal(pidNamespaceOf(sd.pid) === sd.nsId, false)
  if (sd.cgroup) assert.equal(fs.existsSync(sd.cgroup), false, 'private cgroup removed')
  assert.equal(fs.readFileSync(hostMarker, 'utf8'), 'host /tmp must survive\n')
  assert.equal(fs.readFileSync(bindMarker, 'utf8'), 'bound dir must survive\n')
})
