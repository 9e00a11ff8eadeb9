#!/usr/bin/env node
// Packs neumatc the way it is published: the main package `neumatc` (JavaScript, typings, the CLI;
// no native code) with the per-platform packages as optional dependencies, and the platform
// package of this machine, `neumatc-linux-x64-gnu`, holding the addon built by `npm run build`
// (or, with --cross, rebuilt against glibc 2.17 with napi's cross toolchain from npm, for release).
// Writes the tarballs to pack/ (ignored) and prints their paths as JSON.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const out = path.join(root, 'pack')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })

/** npm's platform suffix of a Rust target triple, as `napi create-npm-dirs` names the folders. */
const SUFFIX = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}
const here = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`
const addon = `${pkg.napi.binaryName}.${here}.node`

if (process.argv.includes('--cross')) {
  run('npx', ['napi', 'build', '--platform', '--release', '--use-napi-cross', '--target', 'x86_64-unknown-linux-gnu',
    '--manifest-path', 'crates/neumatc-node/Cargo.toml', '--output-dir', 'ts', '--js', 'native.js', '--dts', 'native.d.ts'], root)
  run('npm', ['run', 'build:ts'], root)
}
const built = path.join(root, 'dist', addon)
if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`)
if (process.argv.includes('--cross')) {
  // The point of the cross build: no symbol newer than glibc 2.17 (measured: 2.15 with candle 0.11).
  const versions = run('objdump', ['-T', built], root).match(/GLIBC_[0-9.]+/g) ?? []
  const newest = versions.map((v) => v.slice(6).split('.').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]).pop()
  if (newest && (newest[0] > 2 || newest[1] > 17)) throw new Error(`${built} needs glibc ${newest.join('.')} > 2.17`)
  process.stderr.write(`portable: needs glibc ${newest?.join('.') ?? '?'} at most\n`)
}

fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(out, { recursive: true })

// The platform package: npm/<suffix>/ (from `napi create-npm-dirs`) plus the addon.
const platformDir = path.join(root, 'npm', here)
fs.copyFileSync(built, path.join(platformDir, addon))
const platformTgz = run('npm', ['pack', '--silent', '--pack-destination', out], platformDir).trim().split('\n').pop()
fs.rmSync(path.join(platformDir, addon))

// The main package, staged: the same files without the addon, every platform as an optional dependency.
const stage = path.join(out, 'stage')
fs.mkdirSync(stage)
const optionalDependencies = Object.fromEntries(pkg.napi.targets.map((t) => [`${pkg.name}-${SUFFIX[t]}`, pkg.version]))
const { devDependencies: _d, scripts: _s, ...published } = pkg
fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify({ ...published, optionalDependencies }, null, 2)}\n`)
fs.cpSync(path.join(root, 'dist'), path.join(stage, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.node') })
for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
  if (fs.existsSync(path.join(root, f))) fs.copyFileSync(path.join(root, f), path.join(stage, f))
}
const mainTgz = run('npm', ['pack', '--silent', '--pack-destination', out], stage).trim().split('\n').pop()
fs.rmSync(stage, { recursive: true })
process.stdout.write(`${JSON.stringify({ main: path.join(out, mainTgz), platform: path.join(out, platformTgz) })}\n`)
