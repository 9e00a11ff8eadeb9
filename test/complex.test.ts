import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type ComplexMatrixBatch,
  type MatrixBatch,
  InvalidOptionError,
  ComplexFamily,
  Family,
  InvalidInputError,
  NeuMatC,
  ShapeMismatchError,
  SingularMatrixError,
  baselines,
  isComplexBatch,
  metrics,
} from '../ts/index.js'
import { expectThrowsCode, rng } from './helpers.js'

const N = 8
const GRID = 101

/** Seeded complex coefficient matrices of the smooth family A(p) = 2I + B0 + p B1 + p² B2 + sin(πp) B3. */
function coefficients(seed: number): Float64Array[] {
  const next = rng(seed)
  return Array.from({ length: 8 }, () => Float64Array.from({ length: N * N }, () => (next() - 0.5) * (0.6 / Math.sqrt(N))))
}

const COEF = coefficients(11)

/** The complex family at a batch of parameters, as planes. */
function family(params: Float64Array): ComplexMatrixBatch {
  const re = new Float64Array(params.length * N * N)
  const im = new Float64Array(params.length * N * N)
  params.forEach((p, b) => {
    const w = [1, p, p * p, Math.sin(Math.PI * p)]
    for (let k = 0; k < N * N; k++) {
      let x = 0
      let y = 0
      for (let t = 0; t < 4; t++) {
        x += w[t] * COEF[2 * t][k]
        y += w[t] * COEF[2 * t + 1][k]
      }
      if (k % (N + 1) === 0) x += 2
      re[b * N * N + k] = x
      im[b * N * N + k] = y
    }
  })
  return { batch: params.length, rows: N, cols: N, re, im }
}

function interleave(m: ComplexMatrixBatch): Float64Array {
  const out = new Float64Array(2 * m.re.length)
  for (let k = 0; k < m.re.length; k++) {
    out[2 * k] = m.re[k]
    out[2 * k + 1] = m.im[k]
  }
  return out
}

const grid = Float64Array.from({ length: GRID }, (_, i) => i / (GRID - 1))
const heldOut = Float64Array.from({ length: 40 }, (_, i) => (i + 0.5) / 40)

/** Complex matrix product of single matrices (row-major planes). */
function cmul(ar: ArrayLike<number>, ai: ArrayLike<number>, br: ArrayLike<number>, bi: ArrayLike<number>, m: number, k: number, n: number) {
  const re = new Float64Array(m * n)
  const im = new Float64Array(m * n)
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let x = 0
      let y = 0
      for (let l = 0; l < k; l++) {
        const [a, b, c, d] = [ar[i * k + l], ai[i * k + l], br[l * n + j], bi[l * n + j]]
        x += a * c - b * d
        y += a * d + b * c
      }
      re[i * n + j] = x
      im[i * n + j] = y
    }
  return { re, im }
}

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('Family.fromSamples with complex matrices', () => {
  const A = family(grid)

  it('accepts planes and interleaved values and reports the complex shape', () => {
    const planes = Family.fromSamples({ paramDim: 1, params: grid, matrices: A })
    const inter = Family.fromSamples({ paramDim: 1, params: grid, matrices: { batch: GRID, rows: N, cols: N, data: interleave(A), layout: 'interleaved' } })
    for (const fam of [planes, inter]) {
      expect(fam).toBeInstanceOf(ComplexFamily)
      expect(fam.complex).toBe(true)
      expect([fam.rows, fam.cols, fam.paramDim]).toEqual([N, N, 1])
      const p = Float64Array.of(grid[3], grid[70])
      const got = fam.at(p)
      expect(isComplexBatch(got)).toBe(true)
      expect([got.batch, got.rows, got.cols]).toEqual([2, N, N])
      const want = family(p)
      expect(Array.from(got.re)).toEqual(Array.from(want.re))
      expect(Array.from(got.im)).toEqual(Array.from(want.im))
    }
  })

  it('checks its arguments', () => {
    const bad = { ...A, im: A.im.subarray(1) }
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: bad })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...A, im: Array.from(A.im) as unknown as Float64Array } })).toThrow(TypeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...A, re: new Float32Array(A.re) as unknown as Float64Array } })).toThrow(TypeError)
    const inter = { batch: GRID, rows: N, cols: N, data: interleave(A).subarray(1), layout: 'interleaved' as const }
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: inter })).toThrow(RangeError)
    const nan = new Float64Array(A.im)
    nan[5] = Number.NaN
    expectThrowsCode(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...A, im: nan } }), InvalidInputError, 'INVALID_INPUT')
    expectThrowsCode(
      () => Family.fromSamples({ paramDim: 1, params: grid.subarray(1), matrices: A }),
      ShapeMismatchError,
      'SHAPE_MISMATCH',
    )
  })
})

describe('a complex inverse model', () => {
  it('learns the complex inverse, predicts complex and round-trips through a file', async () => {
    const fam = Family.fromSamples({ paramDim: 1, params: grid, matrices: family(grid) })
    const model = await NeuMatC.train(fam, 'inverse', { seed: 1, steps: 300 })
    expect(model.complex).toBe(true)
    expect(model.asComplex()).toBe(model)
    const out = await model.predict(heldOut)
    const G = out.inverse
    expect(isComplexBatch(G)).toBe(true)
    expect([G.batch, G.rows, G.cols]).toEqual([heldOut.length, N, N])
    expect(G.re).toBeInstanceOf(Float32Array)
    const err = metrics.relErrInverse(family(heldOut), G)
    console.log(`complex fromSamples inverse: held-out RelErr_inv = ${err.toExponential(2)}, ${model.report.seconds.toFixed(1)} s`)
    expect(err).toBeLessThan(1e-4)
    const sync = model.predictSync(heldOut)
    expect(Array.from(sync.inverse.re)).toEqual(Array.from(G.re))

    const dir = mkdtempSync(join(tmpdir(), 'neumatc-complex-'))
    dirs.push(dir)
    const path = join(dir, 'complex.neumatc')
    await model.save(path)
    expect((NeuMatC.readInfo(path).spec as { complex?: boolean }).complex).toBe(true)
    const again = await NeuMatC.load(path)
    expect(again.complex).toBe(true)
    const back = again.asComplex().predictSync(heldOut)
    expect(Array.from(back.inverse.re)).toEqual(Array.from(G.re))
    expect(Array.from(back.inverse.im)).toEqual(Array.from(G.im))
  })
})

/** A seeded random complex batch. */
function randomComplex(batch: number, m: number, n: number, seed: number): ComplexMatrixBatch {
  const next = rng(seed)
  const len = batch * m * n
  return { batch, rows: m, cols: n, re: Float64Array.from({ length: len }, () => next() - 0.5), im: Float64Array.from({ length: len }, () => next() - 0.5) }
}

/** The real embedding [[X, −Y], [Y, X]] of one complex m × n matrix. */
function embed(a: ComplexMatrixBatch, m: number, n: number): MatrixBatch {
  const data = new Float64Array(4 * m * n)
  for (let r = 0; r < m; r++)
    for (let c = 0; c < n; c++) {
      const [x, y] = [a.re[r * n + c], a.im[r * n + c]]
      data[r * 2 * n + c] = x
      data[r * 2 * n + n + c] = -y
      data[(m + r) * 2 * n + c] = y
      data[(m + r) * 2 * n + n + c] = x
    }
  return { batch: 1, rows: 2 * m, cols: 2 * n, data }
}

describe('complex baselines and metrics', () => {
  const A = randomComplex(3, 6, 6, 5)

  it('inverts exactly, sync and async alike', async () => {
    const G = baselines.inverseSync(A)
    expect(isComplexBatch(G)).toBe(true)
    expect([G.batch, G.rows, G.cols]).toEqual([3, 6, 6])
    expect(metrics.relErrInverse(A, G)).toBeLessThan(1e-20)
    const H = await baselines.inverse(A)
    expect(Array.from(H.re)).toEqual(Array.from(G.re))
    expect(Array.from(H.im)).toEqual(Array.from(G.im))
    // A perturbed inverse is measured as such.
    const bad = { ...G, im: G.im.map((v, i) => (i === 0 ? v + 1e-3 : v)) }
    expect(metrics.relErrInverse(A, bad)).toBeGreaterThan(1e-9)
  })

  it('reconstructs exactly at full rank, with orthonormal complex factors', async () => {
    const R = randomComplex(2, 7, 5, 9)
    const { U, S, V } = await baselines.svd(R)
    expect([U.rows, U.cols, S.rows, S.cols, V.rows, V.cols]).toEqual([7, 5, 5, 1, 5, 5])
    expect(metrics.relErrSvd(R, { U, S, V })).toBeLessThan(1e-20)
    for (let j = 1; j < 5; j++) expect(S.data[j]).toBeLessThanOrEqual(S.data[j - 1])
    // Uᴴ U = I for the first matrix.
    const u = { re: U.re.subarray(0, 35), im: U.im.subarray(0, 35) }
    const ur = new Float64Array(35)
    const ui = new Float64Array(35)
    for (let i = 0; i < 7; i++) for (let j = 0; j < 5; j++) { ur[j * 7 + i] = u.re[i * 5 + j]; ui[j * 7 + i] = -u.im[i * 5 + j] }
    const g = cmul(ur, ui, u.re, u.im, 5, 7, 5)
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++) {
        expect(Math.abs(g.re[i * 5 + j] - (i === j ? 1 : 0))).toBeLessThan(1e-12)
        expect(Math.abs(g.im[i * 5 + j])).toBeLessThan(1e-12)
      }
    const t = baselines.svdSync(R, { rank: 2 })
    expect([t.U.cols, t.S.rows, t.V.cols]).toEqual([2, 2, 2])
    expect(Array.from(t.S.data)).toEqual([S.data[0], S.data[1], S.data[5], S.data[6]])
    expect(metrics.relErrSvd(R, t)).toBeGreaterThan(1e-6)
  })

  it('agrees with the real embedding computed here', () => {
    const a = randomComplex(1, 3, 3, 21)
    const E = embed(a, 3, 3)
    const Ei = baselines.inverseSync(E)
    const G = baselines.inverseSync(a)
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++) {
        expect(G.re[r * 3 + c]).toBeCloseTo(Ei.data[r * 6 + c], 12)
        expect(G.im[r * 3 + c]).toBeCloseTo(Ei.data[(3 + r) * 6 + c], 12)
      }
    // The embedding's singular values are the complex ones, each twice.
    const s = baselines.svdSync(a).S.data
    const se = baselines.svdSync(E).S.data
    for (let j = 0; j < 3; j++) {
      expect(se[2 * j]).toBeCloseTo(s[j], 12)
      expect(se[2 * j + 1]).toBeCloseTo(s[j], 12)
    }
  })

  it('types its errors', async () => {
    const real: MatrixBatch = { batch: 3, rows: 6, cols: 6, data: new Float64Array(108) }
    const G = baselines.inverseSync(A)
    expect(() => metrics.relErrInverse(real, G as unknown as MatrixBatch)).toThrow(TypeError)
    expect(() => metrics.relErrInverse(A, real as unknown as ComplexMatrixBatch)).toThrow(TypeError)
    const realSvd = baselines.svdSync(Family.synthetic({ n: 6, rank: 2, seed: 1 }).at(Float64Array.of(0.1, 0.2, 0.3)))
    expect(() => metrics.relErrSvd(A, realSvd as never)).toThrow(TypeError)
    expect(() => metrics.relErr('inverse', A as never, { inverse: G } as never)).toThrow(TypeError)
    expect(() => baselines.inverseSync({ ...A, im: A.im.subarray(2) })).toThrow(RangeError)
    expect(() => baselines.inverseSync({ ...A, im: new Float32Array(108) } as never)).toThrow(TypeError)
    await expect(baselines.svd({ ...A, re: [1, 2] } as never)).rejects.toBeInstanceOf(TypeError)
    expectThrowsCode(() => baselines.inverseSync(randomComplex(1, 3, 4, 1)), ShapeMismatchError, 'SHAPE_MISMATCH')
    const zero = { batch: 1, rows: 2, cols: 2, re: new Float64Array(4), im: new Float64Array(4) }
    expectThrowsCode(() => baselines.inverseSync(zero), SingularMatrixError, 'SINGULAR')
    await expect(baselines.inverse(zero)).rejects.toMatchObject({ code: 'SINGULAR' })
    expectThrowsCode(() => baselines.svdSync(A, { rank: 7 }), InvalidOptionError, 'INVALID_OPTION')
  })

  it('leaves real families typed and computed as before', () => {
    const fam = Family.synthetic({ n: 4, rank: 2, seed: 2 })
    const m: MatrixBatch = fam.at(Float64Array.of(0.5))
    expect(fam.complex).toBe(false)
    expect(m.data).toBeInstanceOf(Float64Array)
    expect(isComplexBatch(m)).toBe(false)
  })
})

describe('a complex SVD model', () => {
  it('predicts complex singular vectors and real singular values', async () => {
    const fam = Family.fromSamples({ paramDim: 1, params: grid, matrices: family(grid) })
    const model = await NeuMatC.train(fam, 'svd', { seed: 1, steps: 300 })
    expect(model.complex).toBe(true)
    const { U, S, V } = model.predictSync(heldOut)
    expect(isComplexBatch(U) && isComplexBatch(V) && !isComplexBatch(S)).toBe(true)
    expect([U.rows, U.cols, S.rows, S.cols, V.rows, V.cols]).toEqual([N, N, N, 1, N, N])
    const err = metrics.relErrSvd(family(heldOut), { U, S, V })
    console.log(`complex fromSamples svd: held-out RelErr_svd = ${err.toExponential(2)}, ${model.report.seconds.toFixed(1)} s`)
    expect(err).toBeLessThan(1e-4)
  })
})
