#!/usr/bin/env node
// Proves that `npm install neumatc` works on a machine without a Rust toolchain or any build tool:
// packs the main and the platform package (tools/package.mjs), installs both tarballs into a fresh
// temporary project with `--offline` (npm's cache only: any network access fails) and a PATH that
// holds nothing but `node` and `npm` (any compile step or install script would fail), then imports
// neumatc from CommonJS and ESM, trains a tiny model and predicts, type-checks a TypeScript consumer
// of both flavours, and runs the CLI. Run after `npm run build` (CI: after `npm test`).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const t0 = Date.now()
const { main, platform } = JSON.parse(execFileSync(process.execPath, [path.join(root, 'tools/package.mjs')], { encoding: 'utf8' }))

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-install-'))
const bin = path.join(dir, 'bin')
fs.mkdirSync(bin)
fs.symlinkSync(process.execPath, path.join(bin, 'node'))
const npmCli = fs.realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim())
fs.symlinkSync(npmCli, path.join(bin, 'npm'))
const app = path.join(dir, 'app')
fs.mkdirSync(app)
fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
const env = { HOME: process.env.HOME, PATH: bin, npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm') }
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })

for (const tool of ['cargo', 'rustc', 'cc', 'gcc', 'make', 'python3', 'sh']) {
  if (fs.existsSync(path.join(bin, tool))) throw new Error(`${tool} is on the test PATH`)
}
try {
  sh(path.join(bin, 'npm'), ['install', '--offline', '--no-audit', '--no-fund', '--loglevel', 'error', main, platform])
} catch (e) {
  console.error(`install failed (offline, no build tools):\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  process.exit(1)
}
const installed = path.join(app, 'node_modules')
if (fs.readdirSync(path.join(installed, 'neumatc', 'dist')).some((f) => f.endsWith('.node'))) throw new Error('the main package carries an addon')
if (!fs.readdirSync(path.join(installed, 'neumatc-linux-x64-gnu')).some((f) => f.endsWith('.node'))) throw new Error('no addon in the platform package')

const use = `
  const fam = Family.synthetic({ n: 12, rank: 3, seed: 1 })
  const model = await NeuMatC.train(fam, 'inverse', { steps: 200, seed: 1 })
  const p = Float64Array.of(0.2, 0.7)
  const { inverse } = await model.predict(p)
  const err = metrics.relErrInverse(fam.at(p), inverse)
  if (!(err < 1e-3)) throw new Error('RelErr ' + err)
  console.log(JSON.stringify({ flavour: FLAVOUR, err, exact: baselines.inverseSync(fam.at(p)).batch }))
`
fs.writeFileSync(path.join(app, 'cjs.cjs'), `const { Family, NeuMatC, baselines, metrics } = require('neumatc')\nconst FLAVOUR = 'require'\n;(async () => {${use}})().catch((e) => { console.error(e); process.exit(1) })\n`)
fs.writeFileSync(path.join(app, 'esm.mjs'), `import { Family, NeuMatC, baselines, metrics } from 'neumatc'\nconst FLAVOUR = 'import'\n${use}\n`)
for (const f of ['cjs.cjs', 'esm.mjs']) console.log(sh(path.join(bin, 'node'), [f]).trim())

// Types, both flavours, checked with the repository's TypeScript.
const typed = `
const fam = Family.synthetic({ n: 8, rank: 2 })
export async function run(): Promise<number> {
  const model: NeuMatC<'svd'> = await NeuMatC.train(fam, 'svd', { rank: 2, steps: 10 })
  const out = await model.predict(Float64Array.of(0.5))
  const s: Float32Array | Float64Array = out.S.data
  const e: NeuMatCError | undefined = undefined
  return s.length + metrics.relErrSvd(fam.at(Float64Array.of(0.5)), out) + (e ? 1 : 0)
}
`
fs.writeFileSync(path.join(app, 'types-esm.mts'), `import { Family, NeuMatC, NeuMatCError, metrics } from 'neumatc'\n${typed}`)
fs.writeFileSync(path.join(app, 'types-cjs.cts'), `import { Family, NeuMatC, NeuMatCError, metrics } from 'neumatc'\n${typed}`)
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
try {
  const compilerOptions = { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] }
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['types-esm.mts', 'types-cjs.cts'] }))
  sh(path.join(bin, 'node'), [tsc, '-p', 'tsconfig.json'])
} catch (e) {
  console.error(`type check failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  process.exit(1)
}
console.log('types: import and require consumers type-check')

const help = sh(path.join(bin, 'node'), [path.join(installed, '.bin', 'neumatc'), '--help'])
if (!/train/.test(help)) throw new Error('the CLI does not list its commands')
console.log(`install test passed in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})`)
fs.rmSync(dir, { recursive: true, force: true })
