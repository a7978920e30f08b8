// Types of sd-notify-rs/compat: the API of the `sd-notify` npm package, accepting everything
// @types/sd-notify accepts (which types the logging functions as taking an array). As in sd-notify, a
// send that fails (no socket, refused, queue full) is ignored: nothing throws for it.

/** Logs its arguments joined by spaces (sd-notify's `args.join(' ')`); an array is accepted as @types/sd-notify declares. */
export type JournalPrint = (...args: unknown[]) => void

export interface Log {
  emerg: JournalPrint
  emergency: JournalPrint
  alert: JournalPrint
  crit: JournalPrint
  critical: JournalPrint
  err: JournalPrint
  error: JournalPrint
  warning: JournalPrint
  warn: JournalPrint
  notice: JournalPrint
  info: JournalPrint
  debug: JournalPrint
}

/** `READY=1`. */
export declare function ready(): void
/** `STOPPING=1`. `pid` is accepted for compatibility and ignored: the message speaks for this process. */
export declare function stopping(pid?: number): void
/** One `WATCHDOG=1` ping. */
export declare function watchdog(): void
/** The watchdog timeout in milliseconds, or 0 when the unit has no `WatchdogSec=`. */
export declare function watchdogInterval(): number
/**
 * Pings every `interval` ms from an unref'd timer on the event loop; a second call replaces the
 * first. An interval that is not a positive number, or longer than 2^31-1 ms, means 3000. A ping
 * that fails is ignored, and the "watchdog not started" warning is not given.
 */
export declare function startWatchdogMode(interval?: number): void
export declare function stopWatchdogMode(): void
/** `STATUS=text`. Throws `ERR_SD_NOTIFY_INVALID_VALUE` for a text holding `\n`, `\r` or NUL. */
export declare function sendStatus(text: string): void
/** Raw `KEY=value` lines, each checked, sent as one notification. */
export declare function sendState(state: string | string[]): void
/** `journalPrint(level, ...words)`: a journal entry at syslog `level` (0..7). */
export declare function journalPrint(level: number | string[], ...args: unknown[]): void
export declare const log: Log
