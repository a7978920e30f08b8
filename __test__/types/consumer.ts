// A TypeScript user of the whole public API, compiled by __test__/package.test.js with
// `tsc --strict --noEmit` against the packed package: once as CommonJS (this file) and once as
// ESM (the same text as consumer.mts), so both `types` conditions of the exports map are proven.
// It is only type-checked, never run. `@ts-expect-error` lines prove the types are not `any`.

import { ready, reloading, stopping, status, watchdog, watchdogTrigger, setWatchdogTimeout, extendTimeout } from 'sd-notify-rs'
import { mainPid, errno, busError, notify, barrier, available, watchdogEnabled, booted, NotifyListener } from 'sd-notify-rs'
import type { NotifyFields, NotifyMessage, NotifyOptions, WatchdogInfo } from 'sd-notify-rs'
import * as sdNotify from 'sd-notify-rs'
import { listenFds, fdStore, fdStoreRemove, listenInfo } from 'sd-notify-rs'
import type { ListenFd, SystemdListenInfo, SystemdListenOptions, JournalStats, JournalEntry } from 'sd-notify-rs'
import { createServer } from 'node:http'

const sent: boolean[] = [
  ready(),
  ready('listening on :8080'),
  reloading(),
  reloading('re-reading config'),
  stopping('draining connections'),
  status('42 requests served'),
  watchdog(),
  watchdogTrigger(),
  setWatchdogTimeout(30_000),
  extendTimeout(5_000),
  mainPid(1234),
  errno(2),
  busError('org.freedesktop.DBus.Error.TimedOut'),
  available(),
  booted(),
  sdNotify.ready(),
]

const fields: NotifyFields = { READY: 1, STATUS: 'serving', MAINPID: 1234n, X_APP_EPOCH: 7, WATCHDOG: 'trigger' }
const options: NotifyOptions = { fds: [3, 4] }
sent.push(notify(fields, options), notify({ FDSTORE: 1, FDNAME: 'listener' }, { fds: [5] }), notify({ STOPPING: true }))

// @ts-expect-error READY only takes 1, '1' or true
notify({ READY: 2 })
// @ts-expect-error STATUS is text
notify({ STATUS: 5 })
// @ts-expect-error fds are numbers
notify({ FDSTORE: 1 }, { fds: ['3'] })
// @ts-expect-error ready() takes a status string, not a number
ready(1)

const info: WatchdogInfo | null = watchdogEnabled()
const pingEveryMs: number | undefined = info ? info.timeoutMs / 2 : undefined

async function listen(): Promise<string> {
  const synced: boolean = await barrier()
  const syncedSoon: boolean = await barrier(1000)
  const listener = new NotifyListener()
  const named = new NotifyListener('@sd-notify-rs-types')
  const ownUid = new NotifyListener(null, { uid: 1000 })
  const strangers: number = ownUid.refused
  ownUid.close()
  const address: string = listener.address
  const message: NotifyMessage = await listener.receive(2000)
  const ready: string | undefined = message.fields['READY']
  const bytes: number = message.raw.length
  const who: number[] = [message.pid, message.uid, message.gid, ...message.fds]
  listener.close()
  named.close()
  const closed: boolean = listener.closed
  return `${synced} ${syncedSoon} ${address} ${ready} ${bytes} ${who.join(',')} ${closed} ${pingEveryMs}`
}

// Socket activation and the fd store. (`listen` is taken by the function above: the namespace import.)
async function zeroDowntime(): Promise<string> {
  const passed: ListenFd[] = listenFds({ unsetEnvironment: true })
  const taken: boolean[] = listenFds().map((f) => f.taken)
  const stored: boolean = fdStore(passed[0].fd, { name: 'http', poll: false })
  const removed: boolean = fdStoreRemove('http')
  const options: SystemdListenOptions = { name: 'http', port: 8080, host: '127.0.0.1', fdStore: 'auto', backlog: 511 }
  const server = await sdNotify.listen(createServer(), options)
  server.closeIdleConnections() // still the http.Server it was given
  const how: SystemdListenInfo | null = listenInfo(server)
  const fd: number | null | undefined = how?.fd
  // @ts-expect-error fdStore is true, false or 'auto'
  await sdNotify.listen(createServer(), { fdStore: 'yes' })
  // @ts-expect-error fdStore() takes a descriptor number
  fdStore('3')
  // @ts-expect-error listen() needs a server
  await sdNotify.listen({})
  return `${passed[0].name} ${taken} ${stored} ${removed} ${how?.inherited} ${fd}`
}

// The journal.
async function logging(): Promise<string> {
  const sdj = sdNotify.journal
  const logged: boolean[] = [
    sdj.info('listening', { PORT: 8080 }),
    sdj.err(new Error('boom')),
    sdj.print('warning', 'slow', { QUERY_MS: 12, TAGS: ['a', 'b'], BLOB: Buffer.from([0, 255]), BIG: 1n }),
    sdj.print(3, 'by number'),
    sdj.send({ MESSAGE: 'raw', SKIPPED: undefined }),
    sdj.streamConnected(),
  ]
  const custom = new sdNotify.Journal({ socket: '/run/test/journal', identifier: 'billing', location: true })
  const id: string | false = custom.identifier
  const stats: JournalStats = sdj.stats()
  const drained: boolean = await sdj.flush(1000)
  sdNotify.Journal.setQueueLimits({ entries: 100, bytes: 1 << 20 })
  const listener = new sdNotify.JournalListener()
  new sdNotify.JournalListener(undefined, { maxEntryBytes: 1 << 20, uid: 0 }).close()
  const entry: JournalEntry = await listener.receive(1000)
  const message: string | Buffer | Array<string | Buffer> | undefined = entry.fields['MESSAGE']
  listener.close()
  // @ts-expect-error values are not plain objects
  sdj.send({ DATA: { a: 1 } })
  // @ts-expect-error no such level
  sdj.print('loud', 'x')
  return `${logged} ${id} ${stats.dropped} ${drained} ${entry.memfd} ${String(message)}`
}

// Error codes: one union, generated from the package's registries, instead of NodeJS.ErrnoException.
import type { SdNotifyError, SdNotifyErrorCode } from 'sd-notify-rs'

function failureCode(): SdNotifyErrorCode | undefined {
  try {
    ready()
  } catch (e) {
    const err = e as SdNotifyError
    const message: string = err.message
    if (err.code === 'ERR_SD_NOTIFY_INVALID_VALUE' || err.code === 'ECONNREFUSED') return err.code
    // @ts-expect-error a misspelt code is no code of the package
    if (err.code === 'ERR_SD_NOTIFY_INVALID_VALEU') return undefined
    return message ? err.code : undefined
  }
  return undefined
}
const ownCode: SdNotifyErrorCode = 'ERR_SD_NOTIFY_WATCHDOG_UNHEALTHY'
const errnoCode: SdNotifyErrorCode = 'EAGAIN'
// @ts-expect-error not a code
const notACode: SdNotifyErrorCode = 'ERR_SOMETHING_ELSE'

export { sent, listen, zeroDowntime, logging, failureCode, ownCode, errnoCode, notACode }
