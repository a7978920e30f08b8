'use strict'
// Shared pieces of the unit tests: a real NotifyListener as the manager, and a check that a
// refused call sent nothing.
const assert = require('node:assert/strict')
const sd = require('..')

/** Binds a listener, points NOTIFY_SOCKET at it for the test, and restores everything after. */
function useListener(t, address) {
  const listener = new sd.NotifyListener(address)
  const previous = process.env.NOTIFY_SOCKET
  process.env.NOTIFY_SOCKET = listener.address
  t.after(() => {
    listener.close()
    if (previous === undefined) delete process.env.NOTIFY_SOCKET
    else process.env.NOTIFY_SOCKET = previous
  })
  return listener
}

/**
 * Asserts that `fn` throws with `code` and that nothing reached `listener`: a sentinel sent
 * afterwards must be the very next datagram.
 */
async function assertRefused(listener, fn, code) {
  assert.throws(fn, (err) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    assert.ok(err instanceof Error)
    assert.ok(err.message.length > 10, 'the message says what is wrong')
    return true
  })
  assert.equal(sd.status('sentinel'), true)
  const next = await listener.receive(2000)
  assert.equal(next.text, 'STATUS=sentinel', 'the refused call must not have sent anything')
}

module.exports = { sd, useListener, assertRefused }
