import type { Writable } from 'node:stream'

declare namespace pinoJournal {
  interface PinoJournalOptions {
    /** `SYSLOG_IDENTIFIER` (`journalctl -t`); default: the main script's name; `false`: none. */
    identifier?: string | false
    /** The journal socket (default journald's); a `JournalListener`'s address in tests. */
    socket?: string
    /** Keep only these record keys (before mapping); default: all but `exclude`. */
    fields?: string[]
    /** Record keys to leave out; default `['time', 'pid', 'hostname', 'v']` (journald records those itself). */
    exclude?: string[]
    /** Prefix for every mapped field name (`app` -> `APP_REQ_ID`). */
    prefix?: string
    /** pino's `messageKey` when not `msg`. */
    messageKey?: string
  }
  /** pino's level (number or label) as a syslog priority: fatal 2, error 3, warn 4, info 6, debug/trace 7. */
  function priorityOf(level: number | string): number
  export { pinoJournal, PinoJournalOptions, priorityOf }
  export { pinoJournal as default }
}

/**
 * A pino destination writing one journal entry per record: `pino.transport({ target:
 * 'sd-notify-rs/pino', options })` (in a worker thread) or `pino(pinoJournal(options))` in-process.
 */
declare function pinoJournal(options?: pinoJournal.PinoJournalOptions): Writable

export = pinoJournal
