'use strict'
// ready(), then status(argv[2]) and errno(argv[3]); serves until stopped.
const sd = require('../../..')
const report = require('./report')

const text = process.argv[2]
const code = Number(process.argv[3])
const readySent = sd.ready()
const statusSent = sd.status(text)
const errnoSent = sd.errno(code)
report('status-and-errno', { readySent, statusSent, errnoSent })
setInterval(() => {}, 1 << 30)
