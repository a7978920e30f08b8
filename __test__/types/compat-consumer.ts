// What @types/sd-notify users write, compiled against sd-notify-rs/compat (and the pino entry's
// types) by __test__/package.test.js with tsc --strict: the migration is the module name only.

import * as notify from 'sd-notify-rs/compat'
import pinoJournal = require('sd-notify-rs/pino')

notify.ready()
notify.startWatchdogMode(2800)
notify.stopWatchdogMode()
notify.sendStatus('send some status to systemd')
notify.stopping(process.pid)
notify.watchdog()
const interval: number = notify.watchdogInterval()
if (interval > 0) notify.startWatchdogMode(Math.floor(interval / 2))
notify.sendState(['STATUS=raw'])
notify.sendState('STATUS=raw\n')
// @types/sd-notify types the journal functions as taking an array of strings.
notify.journalPrint(['hello', 'journal'])
notify.log.info(['an', 'array'])
notify.log.emergency(['down'])
// What sd-notify's JavaScript actually takes works too.
notify.journalPrint(3, 'disk', 'full')
notify.log.warn('careful', 42)
const nothing: void = notify.ready()
// @ts-expect-error sendStatus takes text
notify.sendStatus()

const destination = pinoJournal({ identifier: 'typed', fields: ['reqId'], exclude: ['time'], prefix: 'app', messageKey: 'message' })
destination.write('{"level":30,"msg":"x"}\n')
const priority: number = pinoJournal.priorityOf('warn')
// @ts-expect-error fields is a list of names
pinoJournal({ fields: 'reqId' })

export { nothing, priority }
