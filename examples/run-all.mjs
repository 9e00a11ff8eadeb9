// Runs every example in this folder as a child process, with small sizes, one after the other;
// prints each one's output and duration and exits non-zero if any fails (npm run test:examples).
//
//   node examples/run-all.mjs               # all of them
//   node examples/run-all.mjs svd serve     # those whose file name contains one of the words
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const TIMEOUT_MS = 180_000

/** Small sizes per example (every example's defaults are small too; these keep the run short). */
const ARGS = {
  'inverse.mjs': ['--n', '32', '--batch', '50'],
  'from-samples.cjs': ['--n', '16'],
  'svd.mjs': ['--n', '16', '--rank', '4'],
  'serve.mjs': ['--n', '32'], // the synthetic family's default rank is 20, so n >= 20
  'mmse-ofdm.mjs': ['--subcarriers', '256', '--supervised', '32'],
  'progress-cancel.mjs': ['--n', '32', '--abort-after', '300'],
}

const filters = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => /\.(mjs|cjs|js)$/.test(f) && f !== basename(fileURLToPath(import.meta.url)) && f !== 'options.cjs')
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort()
if (files.length === 0) {
  console.error(`no example matches ${filters.join(', ')}`)
  process.exit(1)
}

function run(file) {
  const args = [join(here, file), ...(ARGS[file] ?? [])]
  return new Promise((resolve) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, args, { stdio: 'inherit', timeout: TIMEOUT_MS, killSignal: 'SIGKILL' })
    child.on('error', (error) => resolve({ file, ok: false, seconds: (performance.now() - t0) / 1000, why: error.message }))
    child.on('exit', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000
      const why = signal ? `killed by ${signal}${seconds * 1000 >= TIMEOUT_MS ? ` after the ${TIMEOUT_MS / 1000} s timeout` : ''}` : `exit code ${code}`
      resolve({ file, ok: code === 0, seconds, why })
    })
  })
}

const results = []
for (const file of files) {
  const shown = ['node', `examples/${file}`, ...(ARGS[file] ?? [])].join(' ')
  console.log(`\n=== ${shown}`)
  const result = await run(file)
  console.log(`=== ${file}: ${result.ok ? 'ok' : `FAILED (${result.why})`} in ${result.seconds.toFixed(1)} s`)
  results.push(result)
}

console.log('\nexamples:')
for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'}  ${r.seconds.toFixed(1).padStart(5)} s  ${r.file}`)
const total = results.reduce((s, r) => s + r.seconds, 0)
const failed = results.filter((r) => !r.ok)
console.log(`${results.length - failed.length}/${results.length} passed in ${total.toFixed(1)} s`)
if (failed.length > 0) process.exitCode = 1
