'use strict'

// Nothing logged is lost at the end of the process: bursts written to the real journald of a
// private systemd, then the process ends in each way a service ends, and every entry is counted
// back with `journalctl X_BURST=<id>` once the unit is gone and journald has synced.
//
// journald's own rate limit is lifted with a large LogRateLimitBurst= on the unit:
// LogRateLimitIntervalSec=0 does not do it on systemd 252 (a unit's 0 is "journald's default",
// 10,000 per 30 s scaled by free disk space; measured here: 35,000 of 100,000 kept).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { randomUUID } = require('node:crypto')
const { useSystemd } = require('./harness')
const { MAX_FIELDS } = require('../../lib/journal')

const e2e = useSystemd()

const NO_RATE_LIMIT = { LogRateLimitIntervalSec: '30s', LogRateLimitBurst: 10_000_000 }

/** Runs journal-burst.js `how` as a unit; resolves with the unit's final state and the entries. */
async function burst(sd, t, how, args) {
  const unit = sd.unitName(`journal-${how}`, t)
  const id = randomUUID().replace(/-/g, '')
  const r = await sd.runService(unit, { Type: 'exec', ...NO_RATE_LIMIT }, 'journal-burst.js', [id, how, ...args])
  assert.equal(r.code, 0, r.stderr)
  const state = await sd.waitFor(unit, (s) => s.ActiveState === 'inactive' || s.ActiveState === 'failed', 60_000, [
    'ActiveState',
    'Result',
    'ExecMainStatus',
  ])
  await sd.exec('journalctl', ['--sync'])
  const entries = await sd.journalctl(`X_BURST=${id}`, '--output-fields=X_SEQ,X_N,MESSAGE')
  return { unit, state, entries }
}

function assertAll(entries, count) {
  const seqs = entries.map((e) => Number(e.X_SEQ))
  assert.equal(seqs.length, count, `${seqs.length} of ${count} arrived`)
  assert.equal(new Set(seqs).size, count, 'each once')
}

for (const [how, count, result] of [
  ['send-exit', 10_000, 'success'], // journal.send() x10,000, then process.exit(0)
  ['info-natural', 10_000, 'success'], // journal.info() x10,000, then the event loop empties
  ['throw', 10_000, 'exit-code'], // journal.info() x10,000, then an uncaught exception
  ['worker', 10_000, 'success'], // a Worker logs 10,000 and ends, then the process ends
  ['info-natural', 100_000, 'success'], // a burst far past journald's socket queue
]) {
  test(`${how}: all ${count.toLocaleString('en')} entries arrive`, async (t) => {
    const sd = e2e.orSkip(t)
    if (!sd) return
    const { state, entries } = await burst(sd, t, how, [count])
    assert.equal(state.Result, result)
    assertAll(entries, count)
  })
}

test(`journal.send() refuses more than MAX_FIELDS (${MAX_FIELDS}) fields, and an entry of MAX_FIELDS + the identifier arrives`, async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { unit, entries } = await burst(sd, t, 'fields', [MAX_FIELDS, MAX_FIELDS + 1])
  assert.deepEqual(entries.map((e) => Number(e.X_N)), [MAX_FIELDS])
  const reports = (await sd.reports(unit)).filter((r) => r.event === 'fields')
  assert.deepEqual(reports.map((r) => [r.n, r.result]), [[MAX_FIELDS, true], [MAX_FIELDS + 1, 'ERR_SD_NOTIFY_MESSAGE_TOO_LONG']])
})

test('entries dropped past the queue bound are reported in the journal itself: a notice with SD_NOTIFY_RS_DROPPED, at the gap', async (t) => {
  const sd = e2e.orSkip(t)
  if (!sd) return
  const { unit, entries } = await burst(sd, t, 'small-queue', [10_000])
  const exiting = (await sd.reports(unit)).find((r) => r.event === 'exiting')
  const dropped = exiting.stats.dropped
  assert.ok(dropped > 0, 'a queue of 100 overflowed')
  const all = (await sd.journal(unit)).filter((e) => e.SD_NOTIFY_RS_DROPPED)
  t.diagnostic(`arrived ${entries.length}, dropped ${dropped}, notices ${all.length}`)
  assert.ok(all.length > 0, 'journalctl shows the notice')
  assert.equal(all.reduce((sum, e) => sum + Number(e.SD_NOTIFY_RS_DROPPED), 0), dropped, 'the notices add up to stats().dropped')
  for (const e of all) {
    assert.match(e.MESSAGE, /^\d+ journal entries dropped: journald did not keep up$/)
    assert.equal(e.PRIORITY, '4')
    assert.equal(e.SYSLOG_IDENTIFIER, 'journal-burst', 'found with journalctl -t, next to the entries it is about')
  }
  assert.equal(entries.length + dropped, 10_000, 'what arrived and what was reported dropped add up to what was logged')
})
