'use strict'

// pino and winston apps (examples/pino, examples/winston) under a private systemd: what they log
// is read back from the real journald with `journalctl -o json`, as an operator would.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { useSystemd, NODE, REPO_ROOT, sleep } = require('./harness')

const e2e = useSystemd()

/** Starts the example as a Type=notify unit and waits for its three start-up entries. */
async function startExample(sd, t, example, identifier) {
  const unit = sd.unitName(example, t)
  const r = await sd.run(unit, { Type: 'notify', Environment: 'PORT=18080' }, [NODE, path.join(REPO_ROOT, 'examples', example, 'app.js')])
  assert.equal(r.code, 0, `${unit} did not start: ${r.stderr}\n${await sd.journalText(unit)}`)
  const deadline = Date.now() + 10_000
  for (;;) {
    const entries = await sd.journalctl('-u', unit, '-t', identifier)
    if (entries.length >= 3 || Date.now() > deadline) return { unit, entries }
    await sleep(100)
  }
}

for (const [example, identifier, errorField] of [
  ['pino', 'pino-app', 'ERR'],
  ['winston', 'winston-app', 'ERROR'],
]) {
  test(`${example}: PRIORITY, MESSAGE and mapped fields reach journald, and journalctl -p warning filters them`, async (t) => {
    const sd = e2e.orSkip(t)
    if (!sd) return
    const { unit, entries } = await startExample(sd, t, example, identifier)
    const byMessage = Object.fromEntries(entries.map((e) => [e.MESSAGE, e]))
    assert.deepEqual(Object.keys(byMessage).sort(), ['listening', 'no config file, using defaults', 'starting without a cache'])
    assert.deepEqual([byMessage.listening.PRIORITY, byMessage.listening.PORT], ['7', '18080'])
    const warning = byMessage['no config file, using defaults']
    assert.deepEqual([warning.PRIORITY, warning.CONFIG_FILE], ['4', '/etc/app.json'])
    const error = byMessage['starting without a cache']
    assert.deepEqual([error.PRIORITY, error[errorField], error[`${errorField}_CODE`]], ['3', 'cache unreachable', 'ECONNREFUSED'])
    assert.match(error[`${errorField}_STACK`], /^Error: cache unreachable\n\s+at /)
    for (const e of entries) assert.equal(e._TRANSPORT, 'journal', 'the native protocol, not stdout')

    const filtered = await sd.journalctl('-u', unit, '-t', identifier, '-p', 'warning')
    assert.deepEqual(filtered.map((e) => e.MESSAGE).sort(), ['no config file, using defaults', 'starting without a cache'])
    const byField = await sd.journalctl('-u', unit, 'CONFIG_FILE=/etc/app.json')
    assert.equal(byField.length, 1, 'journalctl FIELD=value finds the entry')
    await sd.systemctl('stop', `${unit}.service`)
  })
}
