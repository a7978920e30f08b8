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
  }
  /** winston level names as syslog priorities. */
  const PRIORITIES: Readonly<Record<string, number>>
  export { JournaldTransport, JournaldTransportOptions, PRIORITIES }
}

/** A winston transport writing one journal entry per record: level -> PRIORITY, message -> MESSAGE, every other field searchable. */
declare class JournaldTransport extends TransportStream {
  constructor(options?: JournaldTransport.JournaldTransportOptions)
}

export = JournaldTransport
