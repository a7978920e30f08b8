'use strict'
// Part 5: `systemctl restart` of a small HTTP service under a real systemd (the e2e harness's
// private one, in its own namespaces, loopback only), by how the service reports readiness.
// The probe runs inside the namespace: see e2e/restart-probe.js.

const path = require('node:path')
const { BENCH_DIR, median, log } = require('./common')

const SERVICE = path.join(BENCH_DIR, 'e2e', 'http-service.js')
const PROBE = path.join(BENCH_DIR, 'e2e', 'restart-probe.js')

function unitText(node, v) {
  return `[Unit]
Description=sd-notify-rs bench: restart-to-ready (${v.mode})
StartLimitIntervalSec=0

[Service]
Type=${v.type}
${v.notifyAccess ? `NotifyAccess=${v.notifyAccess}\n` : ''}ExecStart=${node} ${SERVICE} ${v.mode} ${v.port}
`
}

async function run({ sdNotify, rounds = 10 }) {
  const variants = [
    { key: 'ours', label: '**sd-notify-rs** `ready()` after `listen` (Type=notify)', mode: 'ours', type: 'notify', port: 18081 },
    { key: 'systemdNotify', label: 'spawned `systemd-notify --ready` after `listen` (Type=notify, NotifyAccess=all)', mode: 'systemd-notify', type: 'notify', notifyAccess: 'all', port: 18082 },
    { key: 'simple', label: 'no notification (Type=simple)', mode: 'simple', type: 'simple', port: 18083 },
  ]
  if (sdNotify.path) variants.splice(1, 0, { key: 'sdNotify', label: `\`sd-notify\` ${sdNotify.version} \`ready()\` after \`listen\` (Type=notify)`, mode: 'sd-notify', type: 'notify', port: 18084 })

  let sd
  try {
    log('booting a private systemd (e2e harness)')
    sd = await require('../testbed/boot').bootSystemd()
  } catch (err) {
    return { unavailable: err.code === 'E2E_UNAVAILABLE' ? err.reason : `booting systemd failed: ${err.message.split('\n')[0]}` }
  }
  try {
    for (const v of variants) {
      v.unit = `sdbench-${v.key}.service`
      if (sd.installUnit) await sd.installUnit(v.unit, unitText(sd.node, v))
      else throw new Error('the harness has no installUnit()')
      const r = await sd.systemctl('start', v.unit)
      if (r.code !== 0) throw new Error(`systemctl start ${v.unit}: ${r.stderr}`)
    }
    log(`restart: ${rounds} rounds x ${variants.length} services`)
    const r = await sd.exec(sd.node, [PROBE, String(rounds), ...variants.map((v) => `${v.unit}:${v.port}`)], { timeout: 300_000 })
    if (r.code !== 0) throw new Error(`restart probe failed: ${r.stderr}`)
    const results = JSON.parse(r.stdout)
    const base = median(results[variants.find((v) => v.key === 'ours').unit].map((x) => x.restartMs))
    return {
      systemd: sd.version,
      mode: sd.mode,
      rounds,
      rows: variants.map((v) => {
        const xs = results[v.unit]
        const restartMs = median(xs.map((x) => x.restartMs))
        return {
          key: v.key,
          label: v.label,
          restartMs,
          ratio: restartMs / base,
          failedMedian: median(xs.map((x) => x.failed)),
          failedMax: Math.max(...xs.map((x) => x.failed)),
          failedRounds: xs.filter((x) => x.failed > 0).length,
          firstOkMs: median(xs.map((x) => x.firstOkMs)),
          servingMs: median(xs.map((x) => x.restartMs + x.firstOkMs)),
        }
      }),
    }
  } finally {
    await sd.stop()
  }
}

module.exports = { run }
