// ESM entry of sd-notify-rs/compat: the same object as require('sd-notify-rs/compat').
import compat from './compat.js'

export const { ready, stopping, watchdog, watchdogInterval, startWatchdogMode, stopWatchdogMode, sendStatus, sendState, journalPrint, log } = compat
export default compat
