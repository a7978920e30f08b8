'use strict'
// A small HTTP service for the restart-to-ready benchmark: argv = MODE PORT.
// MODE says how it tells systemd it is ready, always after `listen`:
//   ours            require('sd-notify-rs').ready()            (Type=notify)
//   sd-notify       require('sd-notify').ready(), from bench/scratch (Type=notify)
//   systemd-notify  spawns `systemd-notify --ready`            (Type=notify, NotifyAccess=all)
//   simple          says nothing                               (Type=simple)
const http = require('node:http')
const path = require('node:path')

const [mode, port] = process.argv.slice(2)
const sd =
  mode === 'ours' ? require('../..') : mode === 'sd-notify' ? require(path.join(__dirname, '..', 'scratch', 'sd-notify', 'node_modules', 'sd-notify')) : null

const server = http.createServer((req, res) => res.end('ok\n'))
server.listen(Number(port), '127.0.0.1', () => {
  if (sd) sd.ready()
  else if (mode === 'systemd-notify') require('node:child_process').spawn('/usr/bin/systemd-notify', ['--ready'], { stdio: 'ignore' })
})
