'use strict'
// `npm run demo`: the package's story, told by systemd itself. Builds the addon if needed, boots a
// private systemd (or uses the host's), runs the services in examples/ under it and prints a
// timeline. Without the privileges to do that, it tells the same story against NotifyListener.

const { spawnSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const started = process.hrtime.bigint()
const t = () => `t+${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(3)}s`
const say = (line) => console.log(`  ${t().padEnd(10)} ${line}`)
const heading = (line) => console.log(`\n${line}`)
const { sleep } = require('../testbed/util')

function buildIfNeeded() {
  if (process.platform !== 'linux' || process.env.SD_NOTIFY_RS_NATIVE_PATH) return
  // The binary this machine's loader looks for in a checkout (linux-x64-gnu, linux-arm64-musl, ...).
  const binary = path.join(root, `sd-notify-rs.${require('../lib/loader').platformTriple()}.node`)
  const newest = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name)
      return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
    }, 0)
  if (fs.existsSync(binary) && fs.statSync(binary).mtimeMs >= newest(path.join(root, 'src'))) return
  console.log('Building the native addon (cargo, release)...')
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--release'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

async function withSystemd(sd) {
  console.log(`Running under ${sd.mode === 'host' ? "this host's" : 'a private'} systemd ${sd.version}.`)

  heading('1. Type=notify: `systemctl start` returns when the service calls ready(), not before')
  const hello = sd.unitName('demo-hello')
  const helloProps = { Type: 'notify', NotifyAccess: 'main', Environment: 'PORT=8080 WARM_UP_MS=1500' }
  say(`systemctl start ${hello}  (the service warms up for 1.5 s, then listens and calls ready())`)
  const t0 = Date.now()
  const run = await sd.run(hello, helloProps, [sd.node, path.join(root, 'examples', 'hello', 'server.js')])
  if (run.code !== 0) throw new Error(`systemd-run failed: ${run.stderr}\n${await sd.journalText(`${hello}.service`)}`)
  const s1 = await sd.show(`${hello}.service`, ['ActiveState', 'SubState', 'StatusText', 'MainPID'])
  say(`start returned after ${Date.now() - t0} ms: ${s1.ActiveState} (${s1.SubState}), pid ${s1.MainPID}`)
  say(`systemd shows: Status: "${s1.StatusText}"`)
  await sleep(1200)
  const s2 = await sd.show(`${hello}.service`, ['StatusText'])
  say(`a second later:  Status: "${s2.StatusText}"`)
  say(`systemctl stop ${hello}  (the service sends STOPPING=1 and closes)`)
  await sd.systemctl('stop', `${hello}.service`)
  const s3 = await sd.show(`${hello}.service`, ['ActiveState', 'Result'])
  say(`stopped: ${s3.ActiveState}, Result=${s3.Result}`)

  heading('2. WatchdogSec=2: the ping depends on the event loop, so a hung loop gets the service restarted')
  const dog = sd.unitName('demo-watchdog')
  const dogProps = { Type: 'notify', WatchdogSec: '2', Restart: 'on-failure', RestartSec: '500ms', Environment: 'PORT=8081' }
  await sd.run(dog, dogProps, [sd.node, path.join(root, 'examples', 'watchdog', 'server.js')])
  const d1 = await sd.show(`${dog}.service`, ['ActiveState', 'StatusText', 'MainPID'])
  say(`${dog} is ${d1.ActiveState}, pid ${d1.MainPID}: "${d1.StatusText}"`)
  await sleep(3000)
  const d2 = await sd.show(`${dog}.service`, ['ActiveState', 'NRestarts'])
  say(`3 s later (longer than WatchdogSec): still ${d2.ActiveState}, ${d2.NRestarts} restarts`)
  say(`kill -USR2 ${d1.MainPID}  (the service enters an endless synchronous loop)`)
  const hungAt = Date.now()
  await sd.systemctl('kill', '-s', 'USR2', `${dog}.service`)
  await sd.waitFor(`${dog}.service`, (s) => Number(s.NRestarts) >= 1, 15_000, ['NRestarts'])
  say(`systemd noticed the silence and killed it ${Date.now() - hungAt} ms after the hang; restarting`)
  const d4 = await sd.waitFor(
    `${dog}.service`,
    (s) => s.ActiveState === 'active' && s.MainPID !== d1.MainPID && s.MainPID !== '0',
    15_000,
    ['ActiveState', 'MainPID', 'NRestarts'],
  )
  say(`restarted: ${d4.ActiveState}, new pid ${d4.MainPID}, NRestarts=${d4.NRestarts}`)
  const journal = await sd.journal(`${dog}.service`)
  const line = journal.map((e) => String(e.MESSAGE)).find((m) => /watchdog timeout/i.test(m))
  if (line) say(`journal: ${line}`)
  await sd.systemctl('stop', `${dog}.service`)
}

async function withListener(reason) {
  console.log(`No systemd to run units under (${reason}).`)
  console.log('Telling the same story against NotifyListener, a stand-in for the manager:')
  const { NotifyListener } = require(root)
  const listener = new NotifyListener()
  const show = (m) => say(`from pid ${m.pid}: ${m.text.replace(/\n/g, ' | ')}`)
  const until = async (predicate, timeoutMs = 10_000) => {
    for (;;) {
      const m = await listener.receive(timeoutMs)
      show(m)
      if (predicate(m.fields)) return m
    }
  }
  const start = (example, env) => {
    const child = spawn(process.execPath, [path.join(root, 'examples', example, 'server.js')], {
      env: { ...process.env, NOTIFY_SOCKET: listener.address, PORT: '0', ...env },
      stdio: 'inherit',
    })
    say(`started examples/${example} as pid ${child.pid} with NOTIFY_SOCKET=${listener.address}`)
    return child
  }

  heading('1. The service reports its start-up and its shutdown')
  const hello = start('hello', { WARM_UP_MS: '1000' })
  await until((f) => f.READY === '1')
  say(`kill -TERM ${hello.pid}`)
  hello.kill('SIGTERM')
  await until((f) => f.STOPPING === '1')

  heading('2. With WATCHDOG_USEC=2000000 it pings while its event loop answers, and stops when the loop hangs')
  const dog = start('watchdog', { WATCHDOG_USEC: '2000000' })
  await until((f) => f.READY === '1')
  await until((f) => f.WATCHDOG === '1')
  await until((f) => f.WATCHDOG === '1')
  say(`kill -USR2 ${dog.pid}  (the service enters an endless synchronous loop)`)
  dog.kill('SIGUSR2')
  await until((f) => f.STATUS?.includes('blocked'))
  try {
    await until((f) => f.WATCHDOG === '1', 3000)
    say('unexpected: a ping arrived from a hung event loop')
  } catch (e) {
    if (e.code !== 'ETIMEDOUT') throw e
    say('no ping for 3 s: systemd (WatchdogSec=2) would now kill and restart the service')
  }
  dog.kill('SIGKILL')
  listener.close()
}

async function main() {
  buildIfNeeded()
  const { bootSystemd } = require('../testbed/boot')
  let sd
  try {
    sd = await bootSystemd()
  } catch (e) {
    if (e.code !== 'E2E_UNAVAILABLE') throw e
    return withListener(e.reason || e.message)
  }
  try {
    await withSystemd(sd)
  } finally {
    await sd.stop()
  }
  console.log('\nDone: the private systemd and everything it ran are gone.')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
