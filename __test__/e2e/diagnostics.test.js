'use strict'

// Each diagnostic fires in a unit that provokes it and stays silent in one that does not; the
// outcome is read from the unit's journal (warnings go to stderr). Also `sd-notify-rs doctor`.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { useSystemd, NODE, REPO_ROOT, sleep } = require('./harness')

const e2e = useSystemd()

/** Runs services/diagnose.js as a unit (argv through `shell` when given) and returns its journal text once it ended. */
async function journalOf(sd, t, name, properties, args, shell) {
  const unit = sd.unitName(name, t)
  const script = sd.service('diagnose.js')
  const argv = shell ? ['/bin/sh', '-c', shell.replace('SCRIPT', `${NODE} ${script} ${args.join(' ')}`)] : [NODE, script, ...args]
  const r = await sd.run(unit, { Type: 'exec', ...properties }, argv)
  assert.equal(r.code, 0, r.stderr)
  await sd.waitFor(unit, (s) => s.ActiveState !== 'active' && s.ActiveState !== 'activating', 10_000, ['ActiveState'])
  await sleep(200)
  return sd.journalText(unit)
}

test('a notification from a process systemd did not start warns once (SD_NOTIFY_RS_NOT_MAIN_PID); node started with exec does not', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  // `; true` keeps the shell around, as `npm start` would: node is its child.
  const wrapped = await journalOf(sd, t, 'diag-wrapper', { NotifyAccess: 'main' }, ['status', 500], 'SCRIPT; true')
  assert.match(wrapped, /SD_NOTIFY_RS_NOT_MAIN_PID.*is not the one systemd started/)
  assert.equal(wrapped.match(/SD_NOTIFY_RS_NOT_MAIN_PID/g).length, 1, 'once')
  const exec = await journalOf(sd, t, 'diag-exec', { NotifyAccess: 'main' }, ['status', 500], 'exec SCRIPT')
  assert.doesNotMatch(exec, /SD_NOTIFY_RS_NOT_MAIN_PID/)
})

test('RestrictAddressFamilies= without AF_UNIX: the refused send says what to change; with AF_UNIX it sends', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const restricted = await journalOf(sd, t, 'diag-restrict', { RestrictAddressFamilies: 'AF_INET', NotifyAccess: 'main' }, ['ready-catch', 300])
  assert.match(restricted, /ready failed: EAFNOSUPPORT: .*RestrictAddressFamilies= probably forbids AF_UNIX/)
  const allowed = await journalOf(sd, t, 'diag-allow', { RestrictAddressFamilies: 'AF_INET AF_UNIX', NotifyAccess: 'main' }, ['ready-catch', 300])
  assert.match(allowed, /ready sent/)
  assert.doesNotMatch(allowed, /RestrictAddressFamilies=/)
})

test('WatchdogSec= with no watchdog started after ready() warns (SD_NOTIFY_RS_WATCHDOG_NOT_STARTED); with one it does not', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const missing = await journalOf(sd, t, 'diag-nowatchdog', { WatchdogSec: 4 }, ['ready-only', 2500])
  assert.match(missing, /SD_NOTIFY_RS_WATCHDOG_NOT_STARTED.*no watchdog was started 2000 ms after ready\(\)/)
  const started = await journalOf(sd, t, 'diag-watchdog', { WatchdogSec: 4 }, ['ready-watchdog', 2500])
  assert.doesNotMatch(started, /SD_NOTIFY_RS_WATCHDOG_NOT_STARTED/)
})

test('sd-notify-rs doctor, run in a unit, reports the socket, the watchdog and the journal', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const unit = sd.unitName('doctor', t)
  // The barrier holds the short-lived process until the manager has read READY=1: a notifier
  // that exits first cannot be attributed to the unit any more (README, NotifyAccess).
  const r = await sd.run(unit, { Type: 'notify', WatchdogSec: 5, NotifyAccess: 'all' }, ['/bin/sh', '-c', `${NODE} ${path.join(REPO_ROOT, 'bin', 'sd-notify-rs.js')} doctor; ${NODE} -e "const sd = require('${REPO_ROOT}'); sd.ready(); sd.barrier(5000)"`])
  const text = await sd.journalText(unit)
  // The unit's journal says what went wrong (its output goes there, not to systemd-run's stderr).
  assert.equal(r.code, 0, `${r.stderr}\n${text}`)
  assert.match(text, /ok +notify +NOTIFY_SOCKET=\S+ takes datagrams/)
  assert.match(text, /ok +watchdog +WatchdogSec= asks for a ping within 5000 ms from pid \d+, the main process/)
  assert.match(text, /ok +journal +\/run\/systemd\/journal\/socket exists/)
  assert.match(text, /info +unit +running as a systemd unit/)
})

test("sd-notify-rs doctor as ExecStartPre=: diagnoses the unit's settings (no NOTIFY_SOCKET there), the unit starts, the findings are in its journal", async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const bin = path.join(REPO_ROOT, 'bin', 'sd-notify-rs.js')
  const good = sd.unitName('doctor-pre', t)
  await sd.installUnit(good, `[Service]\nType=notify\nWatchdogSec=5\nExecStartPre=${NODE} ${bin} doctor\nExecStart=${NODE} ${sd.service('ready-after-delay.js')} 0\n`)
  const r = await sd.systemctl('start', `${good}.service`)
  const text = await sd.journalText(good)
  assert.equal(r.code, 0, `${r.stderr}\n${text}`)
  assert.match(text, new RegExp(`info +unit +running in ExecStartPre= of ${good}\\.service`))
  assert.match(text, /ok +notify +Type=notify: systemd waits for ready\(\)/)
  assert.match(text, /ok +NotifyAccess +NotifyAccess=main, ExecStart= runs node/)
  assert.match(text, /ok +watchdog +WatchdogSec=5s/)
  assert.doesNotMatch(text, /WARN/)
  // A unit it finds wrong: the findings say what to change (ExecStartPre=- keeps the start going).
  const bad = sd.unitName('doctor-pre-bad', t)
  await sd.installUnit(bad, `[Service]\nType=simple\nExecStartPre=-${NODE} ${bin} doctor\nExecStart=/bin/sh -c 'exec sleep 30'\n`)
  assert.equal((await sd.systemctl('start', `${bad}.service`)).code, 0)
  await sd.waitForJournal(bad, /WARN +notify +Type=simple/)
})
