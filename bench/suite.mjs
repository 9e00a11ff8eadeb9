// The benchmark suite, end to end: builds the addon, finds (or installs into the ignored bench/.venv) a
// Python with NumPy for the side-by-side columns, runs the Rust suite (`paper_suite`: every reproduced
// table, same run, same matrices), renders its JSON into the Markdown report, the SVG figures and — for a
// full run — the README's results section, then the Node-path benches (vitest bench) and, in a full run,
// the refine benchmark.
//
//   node bench/suite.mjs [--quick] [--no-readme] [--no-node] [paper_suite options: --datasets N --only table1,… --max-size N]
//
// `npm run bench [-- options]` runs it (full protocol: 20 datasets, hours on a 2-core machine);
// `npm run bench:quick` runs `--quick` (one dataset, smaller sizes, a few minutes). Ctrl-C stops the step
// that runs; no result file is written until the Rust suite finishes (temporary file, then a rename).
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setupPython } from './python.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const noReadme = args.includes('--no-readme') || quick
const noNode = args.includes('--no-node')
const suiteArgs = args.filter((a) => a !== '--no-readme' && a !== '--no-node')

function run(cmd, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], ...options })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      process.stdout.write(d)
    })
    const stop = () => child.kill('SIGINT')
    process.once('SIGINT', stop)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} ${argv.join(' ')} ${signal ? `stopped by ${signal}` : `exited with ${code}`}`))
    })
  })
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const python = setupPython(root)
if (!python) console.warn('no Python with NumPy: the NumPy columns stay empty')
const env = {
  ...process.env,
  NEUMATC_NODE_VERSION: process.version,
  NEUMATC_SUITE_COMMAND: `npm run bench${quick ? ':quick' : ''}${suiteArgs.filter((a) => a !== '--quick').length ? ` -- ${suiteArgs.filter((a) => a !== '--quick').join(' ')}` : ''}`,
}
try {
  await run(npm, ['run', 'build'])
  const out = await run(
    'cargo',
    ['run', '--release', '--quiet', '-p', 'neumatc', '--example', 'paper_suite', '--', ...suiteArgs, ...(python ? ['--python', python] : [])],
    { env },
  )
  const json = out.trim().split('\n').pop()
  await run(process.execPath, [path.join(root, 'bench/report.mjs'), json, ...(noReadme ? ['--no-readme'] : [])])
  if (!noNode) await run(npm, ['exec', '--', 'vitest', 'bench', '--run'])
  if (!quick && !noNode) await run(npm, ['run', 'bench:refine'])
} catch (e) {
  console.error(`bench: ${e.message}`)
  process.exitCode = 1
}
