'use strict'
// Part: one journal entry from JavaScript. Every contender sends the same three-field entry to the
// same receiver (the floor program's drainer) bound at journald's path, /run/systemd/journal/socket,
// because libsystemd (under sd-notify's journalPrint) cannot be pointed anywhere else. So this part
// runs only where that path is free (no journald here: the e2e tests boot their own). The same
// holds for the systemd-journald npm package (sd_journal_sendv). The stdout
// row is a child process printing the same entry as a JSON line to a pipe the parent drains.

const cp = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { FLOOR_BIN, REPO_ROOT, median, log, startDrainer, timedLoop } = require('./common')

const JOURNAL_DIR = '/run/systemd/journal'
const JOURNAL_SOCKET = path.join(JOURNAL_DIR, 'socket')
const JOURNAL_QLEN = 8192
const MESSAGE = 'request served'
const REQ_ID = 'abc123'
/** The exact bytes journal.send() writes for the entry below (checked against a JournalListener). */
const ENTRY = `MESSAGE=${MESSAGE}\nPRIORITY=6\nX_REQ_ID=${REQ_ID}\nSYSLOG_IDENTIFIER=bench\n`

/** console.log of the same entry as a JSON line, in a child whose stdout is a pipe. */
function stdoutRun(n) {
  const script = `const t0 = process.hrtime.bigint()
    for (let i = 0; i < ${n}; i++) console.log(JSON.stringify({ level: 30, msg: ${JSON.stringify(MESSAGE)}, reqId: ${JSON.stringify(REQ_ID)} }))
    process.stderr.write(String(Number(process.hrtime.bigint() - t0) / ${n}))`
  const r = cp.spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1 << 30 })
  return { nsPerCall: Number(r.stderr), errors: r.status === 0 ? 0 : 1, firstError: r.status === 0 ? null : r.stderr.slice(0, 200) }
}

/**
 * pino in a child process: `n` records of `{ reqId, msg }` through `kind` ('stdout': pino's own
 * JSON lines to a pipe; 'destination': sd-notify-rs/pino in-process; 'transport': in a worker).
 * Returns the main thread's time per record (what the event loop pays) and the time until every
 * record was written out.
 */
function pinoRun(kind, n) {
  const script = `
    const pino = require('pino')
    const kind = ${JSON.stringify(kind)}
    const dest = kind === 'stdout' ? pino.destination({ fd: 1, sync: true })
      : kind === 'destination' ? require('sd-notify-rs/pino')({ identifier: 'bench' })
      : pino.transport({ target: require.resolve('sd-notify-rs/pino'), options: { identifier: 'bench' } })
    const log = pino(dest)
    const go = () => {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < ${n}; i++) log.info({ reqId: 'abc123' }, ${JSON.stringify(MESSAGE)})
      const loop = Number(process.hrtime.bigint() - t0) / ${n}
      const done = () => process.stderr.write(JSON.stringify({ loop, total: Number(process.hrtime.bigint() - t0) / ${n} }))
      // The worker is unref'd: a timer holds this process until the transport closed.
      if (kind === 'transport') { const hold = setInterval(() => {}, 1000); dest.on('close', () => { clearInterval(hold); done() }); dest.end() } else done()
    }
    if (kind === 'transport') dest.once('ready', go); else go()`
  // stdout into a pipe that `cat` drains as fast as it can, as journald drains a service's stdout.
  const r = cp.spawnSync('/bin/sh', ['-c', 'exec "$0" -e "$1" | cat > /dev/null', process.execPath, script], { cwd: REPO_ROOT, encoding: 'utf8' })
  if (r.status !== 0) return { loop: NaN, total: NaN, error: r.stderr.slice(0, 300) }
  return JSON.parse(r.stderr)
}

async function checkEncoding(ours) {
  const listener = new ours.JournalListener()
  try {
    new ours.Journal({ socket: listener.address, identifier: 'bench' }).send({ MESSAGE, PRIORITY: 6, X_REQ_ID: REQ_ID })
    const got = (await listener.receive(2000)).raw.toString()
    if (got !== ENTRY) throw new Error(`journal.send() wrote ${JSON.stringify(got)}, the floor sends ${JSON.stringify(ENTRY)}`)
  } finally {
    listener.close()
  }
}

/**
 * `run` (one loop of this package's sends) with a check that every entry of the loop was sent by
 * its end, none left in the slow-journal queue and none dropped: a receiver that fell behind would
 * time the queue instead of the send. A loop that fails the check counts an error.
 */
function sentStraight(ours, run) {
  return (k) => {
    const before = ours.journal.stats()
    const r = run(k)
    const after = ours.journal.stats()
    const behind = after.queued + (after.dropped - before.dropped) + (after.failed - before.failed)
    if (after.sent - before.sent === k && behind === 0) return r
    return { ...r, errors: r.errors + 1, firstError: r.firstError ?? `the receiver fell behind: ${after.sent - before.sent} of ${k} sent in the loop, ${behind} queued or lost` }
  }
}

async function run({ sdNotify, systemdJournald, rounds = 15, n = 20000 }) {
  if (fs.existsSync(JOURNAL_DIR)) return { unavailable: `${JOURNAL_DIR} exists (a journald runs here): the receiver cannot take its path` }
  const ours = require(REPO_ROOT)
  await checkEncoding(ours)
  fs.mkdirSync(JOURNAL_DIR, { recursive: true })
  let drainer
  try {
    // The drainer binds NOTIFY_SOCKET-style paths; give it journald's.
    // A queue deeper than systemd's 512: a moment when the spinning receiver is descheduled must
    // not fill it, or the slow-journal queue would be timed instead of the send (sentStraight).
    drainer = await startDrainer({ mode: 'spin', address: JOURNAL_SOCKET, qlen: JOURNAL_QLEN })
    const env = { ...process.env, NOTIFY_SOCKET: JOURNAL_SOCKET }
    const floorRun = (mode, k) => JSON.parse(cp.execFileSync(FLOOR_BIN, ['send', mode, ENTRY, String(k)], { env, encoding: 'utf8' }))
    const journal = new ours.Journal({ identifier: 'bench' })
    const sdn = sdNotify.path ? require(sdNotify.path) : null
    const sjd = systemdJournald.path ? require(systemdJournald.path) : null
    const contenders = [
      { key: 'floor', label: 'floor: one `sendmsg` of the same bytes to the address on an open socket (Rust)', run: (k) => floorRun('floor', k), n },
      { key: 'floorConnected', label: 'floor, connected: the same on a socket connected to the address once (Rust)', run: (k) => floorRun('connected', k), n },
      { key: 'ours', label: "**sd-notify-rs** `journal.send({ MESSAGE, PRIORITY, X_REQ_ID })`", run: sentStraight(ours, timedLoop(`api.send({ MESSAGE: ${JSON.stringify(MESSAGE)}, PRIORITY: 6, X_REQ_ID: ${JSON.stringify(REQ_ID)} })`).bind(null, journal)), n },
      { key: 'oursInfo', label: "**sd-notify-rs** `journal.info(MESSAGE, { X_REQ_ID })`", run: sentStraight(ours, timedLoop(`api.info(${JSON.stringify(MESSAGE)}, { X_REQ_ID: ${JSON.stringify(REQ_ID)} })`).bind(null, journal)), n },
      { key: 'stdout', label: '`console.log` of a JSON line to a pipe (child process)', run: stdoutRun, n },
    ]
    if (sdn) {
      contenders.push({ key: 'sdNotify', label: `\`sd-notify\` ${sdNotify.version} \`journalPrint(6, MESSAGE)\` (node-gyp + libsystemd; text only)`, run: timedLoop(`api.journalPrint(6, ${JSON.stringify(MESSAGE)})`).bind(null, sdn), n })
    }
    if (sjd) {
      contenders.push({
        key: 'systemdJournald',
        label: `\`systemd-journald\` ${systemdJournald.version} \`Journald.info(MESSAGE, { X_REQ_ID })\` (node-gyp + libsystemd)`,
        run: timedLoop(`api.info(${JSON.stringify(MESSAGE)}, { X_REQ_ID: ${JSON.stringify(REQ_ID)} })`).bind(null, sjd),
        n,
      })
    }
    for (const c of contenders) c.run(Math.min(2000, c.n)) // warm-up
    const samples = Object.fromEntries(contenders.map((c) => [c.key, []]))
    for (let round = 0; round < rounds; round++) {
      log(`journal round ${round + 1}/${rounds}`)
      for (const c of contenders) samples[c.key].push(c.run(c.n))
    }
    const base = median(samples.floor.map((r) => r.nsPerCall))
    const table = contenders.map((c) => {
      const ns = median(samples[c.key].map((r) => r.nsPerCall))
      const errors = samples[c.key].reduce((a, r) => a + r.errors, 0)
      return { key: c.key, label: c.label, ns, ratio: ns / base, errors, firstError: samples[c.key].find((r) => r.firstError)?.firstError ?? null, calls: `${c.n} x ${rounds}` }
    })
    const paired = (a, b) => median(samples[a].map((r, i) => r.nsPerCall / samples[b][i].nsPerCall))
    const pinoKinds = ['stdout', 'destination', 'transport']
    const pinoSamples = Object.fromEntries(pinoKinds.map((k) => [k, []]))
    for (let round = 0; round < Math.max(3, Math.round(rounds / 3)); round++) {
      log(`pino round ${round + 1}`)
      for (const k of pinoKinds) pinoSamples[k].push(pinoRun(k, n))
    }
    const pinoRows = pinoKinds.map((k) => ({
      kind: k,
      loop: median(pinoSamples[k].map((r) => r.loop)),
      total: median(pinoSamples[k].map((r) => r.total)),
      error: pinoSamples[k].find((r) => r.error)?.error ?? null,
    }))
    return {
      table,
      pino: { rows: pinoRows, n },
      oursOverFloor: paired('ours', 'floor'),
      oursOverConnectedFloor: paired('ours', 'floorConnected'),
      oursOverSdNotify: sdn ? paired('ours', 'sdNotify') : null,
      oursOverSystemdJournald: sjd ? paired('ours', 'systemdJournald') : null,
      // The least any sender can do (a connected send, no work) against each native alternative.
      connectedFloorOverSdNotify: sdn ? paired('floorConnected', 'sdNotify') : null,
      connectedFloorOverSystemdJournald: sjd ? paired('floorConnected', 'systemdJournald') : null,
      systemdJournald,
      oursOverStdout: paired('ours', 'stdout'),
      drain: drainer.banner.replace(/^ready /, ''),
      sdNotify,
    }
  } finally {
    if (drainer) await drainer.close()
    fs.rmSync(JOURNAL_DIR, { recursive: true, force: true })
  }
}

module.exports = { run, JOURNAL_QLEN }
