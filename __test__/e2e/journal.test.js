'use strict'

// The journal against the real journald of a private systemd: what a service sends is read back
// with `journalctl -o json`, the way an operator would find it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { randomUUID } = require('node:crypto')
const { useSystemd } = require('./harness')

const e2e = useSystemd()

/** Runs journal-writer.js as a unit with `properties`; resolves with its report and entries. */
async function writeEntries(sd, t, name, properties = {}) {
  const unit = sd.unitName(name, t)
  const run = randomUUID().replace(/-/g, '')
  const r = await sd.runService(unit, { Type: 'exec', ...properties }, 'journal-writer.js', [run])
  assert.equal(r.code, 0, r.stderr)
  const report = await sd.waitForReport(unit, (e) => e.event === 'journal-written', 15_000)
  // journald may still be writing the last entries: wait until all six are there.
  const deadline = Date.now() + 10_000
  let entries = []
  while (Date.now() < deadline) {
    entries = await sd.journalctl(`X_RUN=${run}`)
    if (entries.length >= 6) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { unit, run, report, byKind: Object.fromEntries(entries.map((e) => [e.X_KIND, e])) }
}

test('entries read back from journald keep multi-line text, binary bytes, repeated fields, 1 MiB messages and the identifier', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { run, report, byKind } = await writeEntries(sd, t, 'journal-kinds')
  assert.deepEqual(report.results, { multiline: true, binary: true, repeated: true, big: true, err: true, debug: true })
  assert.equal(report.drained, true)
  assert.equal(report.stats.dropped, 0)

  assert.equal(byKind.multiline.MESSAGE, 'first line\nsecond line')
  assert.equal(byKind.multiline.PRIORITY, '6')
  assert.deepEqual(byKind.binary.X_BLOB, [0, 1, 2, 255], 'journalctl shows binary values as arrays of bytes')
  assert.deepEqual(byKind.repeated.X_TAG, ['a', 'b', 'c'])
  assert.equal(byKind.big.MESSAGE.length, 1024 * 1024, 'the 1 MiB message (sent in a memfd) arrived whole')
  assert.equal(byKind.big.MESSAGE, 'y'.repeat(1024 * 1024))
  assert.equal(byKind.err.MESSAGE, 'it broke')
  assert.equal(byKind.err.ERROR_CODE, 'E_BROKE')
  assert.match(byKind.err.ERROR_STACK, /^Error: it broke\n\s+at /)
  for (const e of Object.values(byKind)) {
    assert.equal(e.SYSLOG_IDENTIFIER, 'journal-writer', 'the script name, not "node"')
    assert.equal(e._TRANSPORT, 'journal', 'the native protocol, not stdout')
  }
  const byIdentifier = await sd.journalctl('-t', 'journal-writer', `X_RUN=${run}`)
  assert.equal(byIdentifier.length, 6, 'journalctl -t finds them by identifier')
})

test('journalctl -p err finds the err entry and not the info, notice or debug ones', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { run } = await writeEntries(sd, t, 'journal-priority')
  const errors = await sd.journalctl('-p', 'err', `X_RUN=${run}`)
  assert.deepEqual(errors.map((e) => e.X_KIND), ['err'])
  const upToNotice = await sd.journalctl('-p', 'notice', `X_RUN=${run}`)
  assert.deepEqual(upToNotice.map((e) => e.X_KIND).sort(), ['big', 'err'])
})

test('streamConnected() is true under StandardError=journal and false when stderr is a file', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const toJournal = await writeEntries(sd, t, 'journal-stream', { StandardError: 'journal' })
  assert.equal(toJournal.report.streamConnected, true)
  const toFile = await writeEntries(sd, t, 'journal-stream-file', { StandardError: `file:/tmp/${toJournal.run}.stderr` })
  assert.equal(toFile.report.streamConnected, false, 'JOURNAL_STREAM may still be set (stdout is the journal), but stderr is not it')
})
