import TransportStream = require('winston-transport')

declare namespace JournaldTransport {
  interface JournaldTransportOptions extends TransportStream.TransportStreamOptions {
    /** `SYSLOG_IDENTIFIER` (`journalctl -t`); default: the main script's name; `false`: none. */
    identifier?: string | false
    /** The journal socket (default journald's); a `JournalListener`'s address in tests. */
    socket?: string
    /** Keep only these record keys (before mapping); default: all but `exclude`. */
    fields?: string[]
    /** Record keys to leave out; default `['timestamp']` (journald records the time itself). */
    exclude?: string[]
    /** Prefix for every mapped field name. */
    prefix?: string
    /**
     * Priorities of level names, as 0..7 or a journald level name (`{ audit: 'notice' }`), over
     * the defaults: winston's npm and syslog levels, `fatal` 2, `trace` 7; any other level 6.
     */
    priorities?: Record<string, number | string>
  }
  /** winston level names as syslog priorities. */
  const PRIORITIES: Readonly<Record<string, number>>
  export { JournaldTransport, JournaldTransportOptions, PRIORITIES }
}

/**
 * A winston transport writing one journal entry per record: level -> PRIORITY, message -> MESSAGE,
 * every other field searchable, an Error's stack as STACK. `logger.end()` emits 'finish' once the
 * journal has sent every entry; an entry that could not be written is a `'warn'` event (an Error,
 * code `EAGAIN` or `ENOENT`, with `stats`).
 */
declare class JournaldTransport extends TransportStream {
  constructor(options?: JournaldTransport.JournaldTransportOptions)
}

export = JournaldTransport
