'use strict'
// Reload without restarting: onReload() re-reads the configuration on `systemctl reload`.
// With ExecReload=sd-notify-rs reload $MAINPID (reload.service), `systemctl reload` waits for the
// handler and fails when it fails, on every systemd version; the service keeps running either way.
const fs = require('node:fs/promises')
const http = require('node:http')
const sd = require('sd-notify-rs')

const file = process.env.CONFIG || '/etc/reload-demo.json'
let config = { greeting: 'hello' }

async function load() {
  config = JSON.parse(await fs.readFile(file, 'utf8'))
}

sd.onReload(load) // a failure keeps the old config; `systemctl status` shows why
const server = http.createServer((req, res) => res.end(`${config.greeting}\n`))
sd.drainOnStop(server) // on SIGTERM: finish in-flight requests, then exit 0
load()
  .catch(() => {}) // first start: the defaults
  .then(() => server.listen(Number(process.env.PORT || 8080), '127.0.0.1', () => sd.ready('serving')))
