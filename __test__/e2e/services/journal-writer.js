'use strict'
// Writes one entry of each kind to the real journald, all tagged X_RUN=<argv[2]>, then reports
// what send() returned and whether stderr is connected to the journal.
const sd = require('../../..')
const report = require('./report')

const run = process.argv[2]
const { journal } = sd
const results = {
  multiline: journal.info('first line\nsecond line', { X_RUN: run, X_KIND: 'multiline' }),
  binary: journal.send({ MESSAGE: 'binary value', X_RUN: run, X_KIND: 'binary', X_BLOB: Buffer.from([0, 1, 2, 255]) }),
  repeated: journal.send({ MESSAGE: 'repeated', X_RUN: run, X_KIND: 'repeated', X_TAG: ['a', 'b', 'c'] }),
  big: journal.notice('y'.repeat(1024 * 1024), { X_RUN: run, X_KIND: 'big' }),
  err: journal.err(Object.assign(new Error('it broke'), { code: 'E_BROKE' }), { X_RUN: run, X_KIND: 'err' }),
  debug: journal.debug('details', { X_RUN: run, X_KIND: 'debug' }),
}
journal.flush(5000).then((drained) => {
  report('journal-written', { results, drained, stats: journal.stats(), streamConnected: journal.streamConnected(2) })
})
