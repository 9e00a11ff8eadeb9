import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Family, FormatError, NeuMatC, NeuMatCError } from '../ts/index.js'
import { expectRejectsCode, expectThrowsCode, uniformParams } from './helpers.js'

const DIST = path.join(__dirname, '..', 'dist', 'index.js')
const CLI = path.join(__dirname, '..', 'dist', 'cli.js')
const QUICK = { steps: 60, seed: 1, sampling: { supervised: 12, collocation: 12, candidates: 24 } }

let dir: string
let fam: Family
let model: NeuMatC<'inverse'>
let file: string

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-files-'))
  fam = Family.synthetic({ n: 8, rank: 2, seed: 3 })
  model = await NeuMatC.train(fam, 'inverse', QUICK)
  file = path.join(dir, 'inv.neumatc')
  await model.save(file)
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/** The sections of a safetensors file: the 8-byte length, the JSON header, the data. */
function sections(bytes: Buffer): { headerEnd: number; header: Record<string, { data_offsets?: [number, number] }> } {
  const len = Number(bytes.readBigUInt64LE(0))
  return { headerEnd: 8 + len, header: JSON.parse(bytes.subarray(8, 8 + len).toString('utf8')) }
}

function write(name: string, bytes: Uint8Array | string): string {
  const p = path.join(dir, name)
  fs.writeFileSync(p, bytes)
  return p
}

describe('model files: save and load', () => {
  it('round trip: same predictions bit for bit, same spec, report and metadata; sync and async', async () => {
    const P = uniformParams(fam, 9, 4)
    const want = model.predictSync(P).inverse.data
    const again = await NeuMatC.load(file)
    const sync = NeuMatC.loadSync(file)
    for (const m of [again, sync]) {
      expect(m.operation).toBe('inverse')
      expect(m.spec).toEqual(model.spec)
      expect(m.report).toEqual(model.report)
      expect(m.domain).toEqual(model.domain)
      expect(m.latentDim).toBe(model.latentDim)
      expect(m.dtype).toBe('f32')
      expect(m.hasFamily).toBe(true)
      expect(Array.from(m.predictSync(P).inverse.data)).toEqual(Array.from(want))
    }
    const meta = NeuMatC.readInfo(file)
    expect(meta.formatVersion).toBe(1)
    expect(meta.operation).toBe('inverse')
    expect(meta).toMatchObject({ family: { kind: 'synthetic', options: { n: 8, rank: 2, seed: 3 } } })
    expect(meta.report.heldOutRelErr).toBe(model.report.heldOutRelErr)
    expect(model.metadata).toEqual(meta)
  })

  it('an SVD model in f64 and a solve model survive the round trip', async () => {
    const svd = await NeuMatC.train(fam, 'svd', { ...QUICK, rank: 2, dtype: 'f64' })
    const rhs = Float64Array.from({ length: 8 }, (_, i) => i - 3.5)
    const solve = await NeuMatC.train(fam, 'solve', { ...QUICK, rhs })
    const P = uniformParams(fam, 5, 8)
    for (const [name, m] of [['svd', svd], ['solve', solve]] as const) {
      const f = path.join(dir, `${name}.neumatc`)
      m.saveSync(f)
      const back = NeuMatC.loadSync(f)
      expect(back.spec).toEqual(m.spec)
      const a = m.predictSync(P) as unknown as Record<string, { data: ArrayLike<number> }>
      const b = back.predictSync(P) as unknown as Record<string, { data: ArrayLike<number> }>
      expect(Object.keys(b)).toEqual(Object.keys(a))
      for (const k of Object.keys(a)) expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data))
    }
    expect(NeuMatC.loadSync(path.join(dir, 'solve.neumatc')).spec.rhs).toEqual(Array.from(rhs))
  })

  it('saving over a file replaces it atomically and leaves no temporary files', async () => {
    const target = path.join(dir, 'replace.neumatc')
    fs.writeFileSync(target, 'old contents')
    await model.save(target)
    expect(NeuMatC.loadSync(target).latentDim).toBe(model.latentDim)
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('a failing save reports an error and leaves the old file and the directory untouched', async () => {
    const missing = path.join(dir, 'no-such-dir', 'm.neumatc')
    await expect(model.save(missing)).rejects.toBeInstanceOf(NeuMatCError)
    const before = fs.readdirSync(dir).sort()
    expect(() => model.saveSync(dir)).toThrow(NeuMatCError) // a directory is not a file
    expect(fs.readdirSync(dir).sort()).toEqual(before)
  })

  it('argument misuse is a TypeError', async () => {
    expect(() => model.saveSync('' as string)).toThrow(TypeError)
    await expect(NeuMatC.load(42 as unknown as string)).rejects.toBeInstanceOf(TypeError)
  })
})

describe('model files: corrupt, foreign and newer files are FORMAT errors, never crashes', () => {
  it('a missing file names the path', () => {
    const e = expectThrowsCode(() => NeuMatC.loadSync(path.join(dir, 'missing.neumatc')), NeuMatCError, 'IO')
    expect(e.message).toMatch(/missing\.neumatc/)
  })

  it('truncation inside every section', () => {
    const bytes = fs.readFileSync(file)
    const { headerEnd, header } = sections(bytes)
    const cuts = new Set([0, 1, 4, 7, 8, 9, headerEnd >> 1, headerEnd - 1, headerEnd, headerEnd + 1, bytes.length - 1])
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__' || !t.data_offsets) continue
      const [lo, hi] = t.data_offsets
      cuts.add(headerEnd + lo + ((hi - lo) >> 1))
      cuts.add(headerEnd + hi - 1)
    }
    for (const cut of cuts) {
      const f = write('cut.neumatc', bytes.subarray(0, cut))
      expectThrowsCode(() => NeuMatC.loadSync(f), FormatError, 'FORMAT')
    }
  })

  it('flipped bytes in the header and in every tensor', () => {
    const bytes = fs.readFileSync(file)
    const { headerEnd, header } = sections(bytes)
    const P = uniformParams(fam, 3, 2)
    const want = Array.from(model.predictSync(P).inverse.data)
    const positions = [0, 3, 8, 20, headerEnd - 2]
    for (const [name, t] of Object.entries(header)) {
      if (name !== '__metadata__' && t.data_offsets) positions.push(headerEnd + t.data_offsets[0])
    }
    for (const pos of positions) {
      const copy = Buffer.from(bytes)
      copy[pos] ^= 0x5a
      const f = write('flip.neumatc', copy)
      try {
        // A flip inside the JSON header can leave it valid (e.g. inside a warning text): then the
        // model must load intact; a flip in the data breaks the checksum.
        const m = NeuMatC.loadSync(f)
        expect(pos).toBeLessThan(headerEnd)
        expect(Array.from(m.predictSync(P).inverse.data)).toEqual(want)
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError)
      }
    }
  })

  it('wrong magic: empty, text, PNG, random bytes', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff))
    for (const [name, content] of [['empty', ''], ['text', '{"hello": "world"}\n'], ['png', png], ['random', random]] as const) {
      const e = expectThrowsCode(() => NeuMatC.loadSync(write(`${name}.bin`, content)), FormatError, 'FORMAT')
      expect(e.message).toMatch(new RegExp(`${name}\\.bin`))
    }
  })

  it('a lying header length or huge declared shapes do not allocate', () => {
    const bytes = fs.readFileSync(file)
    const huge = Buffer.from(bytes)
    huge.writeBigUInt64LE(2n ** 62n, 0)
    expectThrowsCode(() => NeuMatC.loadSync(write('huge-len.neumatc', huge)), FormatError, 'FORMAT')
    const header = JSON.stringify({ big: { dtype: 'F32', shape: [1 << 30, 1 << 30], data_offsets: [0, 4] } })
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(header.length), 0)
    const f = write('huge-shape.neumatc', Buffer.concat([len, Buffer.from(header), Buffer.alloc(4)]))
    expectThrowsCode(() => NeuMatC.loadSync(f), FormatError, 'FORMAT')
  })

  it('a foreign safetensors file and a newer format version say so', () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } })
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(header.length), 0)
    const foreign = write('foreign.safetensors', Buffer.concat([len, Buffer.from(header), Buffer.alloc(8)]))
    expect(expectThrowsCode(() => NeuMatC.loadSync(foreign), FormatError, 'FORMAT').message).toMatch(/not a neumatc model/)
    expect(() => NeuMatC.readInfo(foreign)).toThrow(FormatError)

    const text = fs.readFileSync(file).toString('latin1')
    const newer = text.replace('"formatVersion":"1"', '"formatVersion":"9"')
    expect(newer).not.toBe(text)
    const f = write('newer.neumatc', Buffer.from(newer, 'latin1'))
    expect(expectThrowsCode(() => NeuMatC.loadSync(f), FormatError, 'FORMAT').message).toMatch(/newer/)
  })

  it('async load rejects with the same code', async () => {
    await expectRejectsCode(NeuMatC.load(write('async-empty.neumatc', '')), FormatError, 'FORMAT')
  })
})

describe('model files: a process killed while saving never leaves a broken file', () => {
  it('SIGKILL at random moments of a save loop: the file always loads', async () => {
    const target = path.join(dir, 'killed.neumatc')
    const big = await NeuMatC.train(Family.synthetic({ n: 96, rank: 6, seed: 2 }), 'inverse', { ...QUICK, latentDim: 40 })
    await big.save(target)
    const child = `
      const { NeuMatC } = require(${JSON.stringify(DIST)})
      const m = NeuMatC.loadSync(${JSON.stringify(target)})
      process.stdout.write('ready\\n')
      for (;;) m.saveSync(${JSON.stringify(target)})
    `
    for (const delay of [5, 23, 61, 137]) {
      const proc = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit'] })
      await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()))
      await new Promise((r) => setTimeout(r, delay))
      proc.kill('SIGKILL')
      await new Promise((r) => proc.once('exit', r))
      const back = NeuMatC.loadSync(target)
      expect(back.latentDim).toBe(big.latentDim)
    }
  })
})

describe('the CLI: train, info, predict, check', () => {
  it('train --out writes a model that info, predict and check read', () => {
    const out = path.join(dir, 'cli.neumatc')
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 })
    const t = run('train', '--n', '12', '--rank', '3', '--steps', '200', '--quiet', '--out', out)
    expect(t.status, t.stderr).toBe(0)
    expect(t.stdout).toMatch(/saved/)
    const info = run('info', out)
    expect(info.status, info.stderr).toBe(0)
    expect(info.stdout).toMatch(/operation: inverse of 12×12/)
    expect(info.stdout).toMatch(/family: synthetic/)
    const infoJson = JSON.parse(run('info', out, '--json').stdout)
    expect(infoJson.formatVersion).toBe(1)
    const p = run('predict', out, '--params', '0.25,0.75')
    expect(p.status, p.stderr).toBe(0)
    const pred = JSON.parse(p.stdout)
    expect(pred.components.inverse).toMatchObject({ batch: 2, rows: 12, cols: 12 })
    expect(pred.components.inverse.data).toHaveLength(288)
    const c = run('check', out, '--params', '0.25,0.75', '--json')
    expect(c.status, c.stderr).toBe(0)
    const check = JSON.parse(c.stdout)
    expect(check.measures.residual).toHaveLength(2)
    for (const r of check.measures.residual) expect(r).toBeLessThan(1e-2)
    const outside = run('predict', out, '--params', '1.5')
    expect(outside.status).toBe(1)
    expect(outside.stderr).toMatch(/OUT_OF_DOMAIN/)
    const extra = run('predict', out, '--params', '1.5', '--extrapolate')
    expect(extra.status, extra.stderr).toBe(0)
    expect(JSON.parse(extra.stdout).warnings[0]).toMatch(/outside the trained domain/)
    const bad = run('info', path.join(dir, 'nothing-here.neumatc'))
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/IO|FORMAT/)
    const garbage = run('predict', out, '--params', '0.1,abc')
    expect(garbage.status).toBe(1)
  })
})

/**
 * A Python with the `safetensors` and `numpy` packages: `NEUMATC_PYTHON`, the benchmark's
 * `bench/.venv`, or `python3`, whichever has them first (CI installs them into `bench/.venv`).
 */
function pythonWithSafetensors(): string | undefined {
  for (const py of [process.env.NEUMATC_PYTHON, path.join(__dirname, '..', 'bench', '.venv', 'bin', 'python'), 'python3']) {
    if (!py) continue
    const r = spawnSync(py, ['-c', 'import safetensors.numpy, numpy'], { encoding: 'utf8' })
    if (r.status === 0) return py
  }
  return undefined
}

const PYTHON = pythonWithSafetensors()

describe.skipIf(PYTHON === undefined)('model files open in Python (safetensors package)', () => {
  it('safetensors.numpy.load_file reads every tensor with the shapes the metadata states', () => {
    const script = `
import json, sys
from safetensors import safe_open
from safetensors.numpy import load_file
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = f.metadata()
print(json.dumps({"shapes": {k: list(v.shape) for k, v in t.items()}, "dtypes": sorted({str(v.dtype) for v in t.values()}), "format": meta["format"], "neumatc": json.loads(meta["neumatc"])["operation"]}))
`
    const r = spawnSync(PYTHON as string, ['-c', script, file], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.format).toBe('neumatc')
    expect(out.neumatc).toBe('inverse')
    expect(out.dtypes).toEqual(['float32'])
    expect(out.shapes['latent.inverse']).toEqual([model.latentDim, 64])
  })
})
