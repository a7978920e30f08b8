import type { Duplex } from 'node:stream'

declare namespace pinoJournal {
  interface PinoJournalOptions {
    /** `SYSLOG_IDENTIFIER` (`journalctl -t`); default: the main script's name (also in pino's worker thread); `false`: none. */
    identifier?: string | false
    /** The journal socket (default journald's); a `JournalListener`'s address in tests. */
    socket?: string
    /** Keep only these record keys (before mapping); default: all but `exclude`. */
    fields?: string[]
    /** Record keys to leave out; default `['time', 'pid', 'hostname', 'v']` (journald records those itself). */
    exclude?: string[]
    /** Prefix for every mapped field name (`app` -> `APP_REQ_ID`). */
    prefix?: string
    /** pino's `messageKey` when not `msg` (in pino's worker thread it comes from the logger itself). */
    messageKey?: string
    /**
     * Priorities of level names, as 0..7 or a journald level name (`{ audit: 'notice' }`). Default:
     * journald's names, `fatal` 2, `trace` 7; any other level by its number (>= 60: 2, >= 50: 3,
     * >= 40: 4, >= 30: 6, else 7).
     */
    priorities?: Record<string, number | string>
  }
  /** Why an entry was dropped: `EAGAIN` (journald did not keep up) or `ENOENT` (no journal), with the journal's counters. */
  interface DropInfo {
    code: string
    message: string
    stats: { sent: number; queued: number; queuedBytes: number; dropped: number; failed: number; lastError: string | null }
  }
  /** The in-process stream: pino's `log.flush(cb)` and `flushSync()` deliver what was logged. Emits `'drop'` (record, info). */
  interface PinoJournalStream extends Duplex {
    /** Hands every record written so far to the journal, then calls back once journald has them (at most 5 s). */
    flush(cb?: (err?: Error) => void): void
    /** Hands every record written so far to the journal before it returns (the journal sends them at exit at the latest). */
    flushSync(): void
    on(event: 'drop', listener: (record: Record<string, unknown>, info: DropInfo) => void): this
    on(event: string | symbol, listener: (...args: any[]) => void): this
  }
  /** pino's level (number or label) as a syslog priority: fatal 2, error 3, warn 4, info 6, debug/trace 7. */
  function priorityOf(level: number | string): number
  export { pinoJournal, PinoJournalOptions, PinoJournalStream, DropInfo, priorityOf }
  export { pinoJournal as default }
}

/**
 * A pino destination writing one journal entry per record: `pino.transport({ target:
 * 'sd-notify-rs/pino', options })` (in a worker thread) or `pino(pinoJournal(options))` in-process.
 */
declare function pinoJournal(options?: pinoJournal.PinoJournalOptions): pinoJournal.PinoJournalStream

export = pinoJournal
