// Copies the generated native loader, its typings and the built addon next to the compiled
// JavaScript in dist/, where dist/*.js require('./native.js').
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const src = path.join(__dirname, '..')
const dist = path.join(__dirname, '..', '..', 'dist')
fs.mkdirSync(dist, { recursive: true })
const files = fs.readdirSync(src).filter((f) => f === 'native.js' || f === 'native.d.ts' || f.endsWith('.node'))
if (!files.some((f) => f.endsWith('.node'))) {
  console.error('copy-native: no .node addon in ts/ — run `npm run build:native` first')
  process.exit(1)
}
for (const f of files) fs.copyFileSync(path.join(src, f), path.join(dist, f))
fs.chmodSync(path.join(dist, 'cli.js'), 0o755)
