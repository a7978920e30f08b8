// Types of the ESM entry (index.mjs): the same declarations as index.d.ts, plus the default export.
import * as sdNotify from './index.js'

export * from './index.js'
export default sdNotify
