import { describe, expect, it } from 'vitest'
import {
  AdrFamily,
  ComplexFamily,
  ConvergenceError,
  Family,
  InvalidInputError,
  InvalidOptionError,
  NeuMatC,
  NeuMatCError,
  OutOfDomainError,
  baselines,
  isComplexBatch,
  metrics,
} from '../ts/index.js'
import { expectThrowsCode } from './helpers.js'

const ULA8 = { rx: { rows: 1, cols: 8 }, tx: { rows: 1, cols: 8 } }

describe('Family.cdl', () => {
  it('gives complex Hermitian 8 × 8 Gram matrices, reproducibly for a seed', () => {
    const fam = Family.cdl({ ...ULA8, seed: 3 })
    expect(fam).toBeInstanceOf(ComplexFamily)
    expect(fam.complex).toBe(true)
    expect([fam.rows, fam.cols, fam.paramDim]).toEqual([8, 8, 1])
    expect(fam.domain.lo[0]).toBeCloseTo(28e9 - 50e6, 0)
    expect(fam.domain.hi[0]).toBeCloseTo(28e9 + 50e6, 0)
    const f = Float64Array.of(28e9 - 20e6, 28e9, 28e9 + 35e6)
    const A = fam.at(f)
    expect(isComplexBatch(A)).toBe(true)
    expect([A.batch, A.rows, A.cols]).toEqual([3, 8, 8])
    let offHermitian = 0
    let scale = 0
    for (let b = 0; b < 3; b++)
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 8; j++) {
          const [k, t] = [b * 64 + i * 8 + j, b * 64 + j * 8 + i]
          offHermitian = Math.max(offHermitian, Math.abs(A.re[k] - A.re[t]), Math.abs(A.im[k] + A.im[t]))
          scale = Math.max(scale, Math.abs(A.re[k]))
        }
    expect(offHermitian).toBeLessThanOrEqual(1e-14 * scale)
    // The diagonal is real and at least σ² = n_t · 10^(−20/10) = 0.08.
    for (let i = 0; i < 8; i++) {
      expect(A.im[i * 9]).toBe(0)
      expect(A.re[i * 9]).toBeGreaterThan(0.08)
    }
    // The frequency matters (100 ns delay spread over 55 MHz).
    expect(A.re.subarray(0, 64)).not.toEqual(A.re.subarray(128, 192))
    const same = Family.cdl({ ...ULA8, seed: 3 }).at(f)
    expect(Array.from(same.re)).toEqual(Array.from(A.re))
    expect(Array.from(same.im)).toEqual(Array.from(A.im))
    const other = Family.cdl({ ...ULA8, seed: 4 }).at(f)
    expect(Array.from(other.re)).not.toEqual(Array.from(A.re))
  })

  it('gives channels with form "channel" and other array shapes', async () => {
    const fam = Family.cdl({ rx: { rows: 2, cols: 2 }, tx: { rows: 1, cols: 3 }, form: 'channel', profile: 'D' })
    expect([fam.rows, fam.cols]).toEqual([4, 3])
    const H = await fam.atAsync(Float64Array.of(28e9))
    expect([H.batch, H.rows, H.cols, H.re.length, H.im.length]).toEqual([1, 4, 3, 12, 12])
  })

  it('parametrises by subcarrier index with `subcarriers`', () => {
    const fam = Family.cdl({ ...ULA8, subcarriers: 64 })
    expect([fam.domain.lo[0], fam.domain.hi[0]]).toEqual([0, 63])
    expect(fam.at(Float64Array.of(10.5)).batch).toBe(1)
  })

  it('rejects bad options with typed errors naming the option', () => {
    for (const [opts, name] of [
      [{ profile: 'Z' }, 'profile'],
      [{ delaySpread: -1 }, 'delaySpread'],
      [{ snrDb: 1000 }, 'snrDb'],
      [{ form: 'covariance' }, 'form'],
      [{ subcarriers: 1 }, 'subcarriers'],
      [{ tx: { rows: 0, cols: 8 } }, 'rows'],
    ] as const) {
      const e = expectThrowsCode(() => Family.cdl(opts as never), InvalidOptionError, 'INVALID_OPTION')
      expect(e).toBeInstanceOf(NeuMatCError)
      expect(e.message).toContain(name)
    }
    expect(expectThrowsCode(() => Family.cdl({ colour: 1 } as never), InvalidOptionError, 'INVALID_OPTION').message).toMatch(/colour/)
    expect(() => Family.cdl({ delaySpread: '10ns' } as never)).toThrow(TypeError)
    expect(() => Family.cdl({ profile: 1 } as never)).toThrow(TypeError)
    expect(() => Family.cdl({ beamSquint: 1 } as never)).toThrow(TypeError)
    expect(() => Family.cdl({ rx: { cols: 2.5 } })).toThrow(RangeError)
    expect(() => Family.cdl({ seed: Number.NaN })).toThrow(RangeError)
  })

  it('refuses out-of-band frequencies', () => {
    const fam = Family.cdl(ULA8)
    expectThrowsCode(() => fam.at(Float64Array.of(2.4e9)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })

  it('trains an MMSE-inverse model with a small held-out error', async () => {
    const fam = Family.cdl({ ...ULA8, delaySpread: 10e-9, bandwidth: 50e6 })
    const model = await NeuMatC.train(fam, 'inverse')
    expect(model.complex).toBe(true)
    const { lo, hi } = fam.domain
    const f = Float64Array.from({ length: 50 }, (_, i) => lo[0] + ((i + 0.37) / 50) * (hi[0] - lo[0]))
    const { inverse } = await model.predict(f)
    expect([inverse.rows, inverse.cols]).toEqual([8, 8])
    const err = metrics.relErrInverse(fam.at(f), inverse)
    const exact = metrics.relErrInverse(fam.at(f), baselines.inverseSync(fam.at(f)))
    console.log(`CDL 8x8 Gram inverse: held-out RelErr_inv = ${err.toExponential(2)} (report ${model.report.heldOutRelErr}), ${model.report.seconds.toFixed(1)} s, exact ${exact.toExponential(1)}`)
    expect(err).toBeLessThan(BOUND_CDL)
    await expect(NeuMatC.train(fam, 'qr')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
  })
})

// Measured 3.4e-6 (default options, seed 0, 2 cores); the bound leaves a 15× margin.
const BOUND_CDL = 5e-5

/** Dense `A x` for a (n × n) row-major matrix. */
function matvec(a: Float64Array, x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j]
    y[i] = s
  }
  return y
}

describe('Family.adr and the sparse baselines', () => {
  const fam = Family.adr({ grid: 20 })
  const p = Float64Array.of(0.05, 0.3, 0.71)

  it('is a real sparse family of n = grid² unknowns', () => {
    expect(fam).toBeInstanceOf(AdrFamily)
    expect(fam.complex).toBe(false)
    expect([fam.n, fam.rows, fam.cols, fam.paramDim]).toEqual([400, 400, 400, 1])
    expect(fam.describe()).toMatchObject({ kind: 'adr', options: { grid: 20 } })
  })

  it('sparseSolve solves exactly (residual checked with the dense A(p))', async () => {
    const x = await baselines.sparseSolve(fam, p)
    expect([x.batch, x.rows, x.cols]).toEqual([3, 400, 1])
    const A = fam.at(p)
    for (let b = 0; b < 3; b++) {
      const ax = matvec(A.data.subarray(b * 160000, (b + 1) * 160000), x.data.subarray(b * 400, (b + 1) * 400), 400)
      let r = 0
      for (let i = 0; i < 400; i++) r += (ax[i] - 1) ** 2
      expect(Math.sqrt(r) / Math.sqrt(400)).toBeLessThanOrEqual(1e-12)
    }
    const sync = baselines.sparseSolveSync(fam, p)
    expect(Array.from(sync.data)).toEqual(Array.from(x.data))
    for (const r of fam.residual(p, x)) expect(r).toBeLessThanOrEqual(1e-12)
    // A wrong solution is seen as such.
    expect(fam.residual(p.subarray(0, 1), new Float64Array(400))[0]).toBeCloseTo(1, 12)
  })

  it('krylov reaches its tolerance, close to the exact solution', async () => {
    const exact = baselines.sparseSolveSync(fam, p)
    for (const tol of [1e-3, 1e-8]) {
      const k = await baselines.krylov(fam, p, { tol })
      expect([k.x.batch, k.x.rows, k.x.cols]).toEqual([3, 400, 1])
      expect(k.iterations).toHaveLength(3)
      expect(k.residuals).toHaveLength(3)
      expect(k.seconds).toBeGreaterThan(0)
      const checked = fam.residual(p, k.x)
      for (let i = 0; i < 3; i++) {
        expect(k.residuals[i]).toBeLessThanOrEqual(tol)
        expect(checked[i]).toBeCloseTo(k.residuals[i], 10)
      }
      if (tol === 1e-8) {
        let d = 0
        let s = 0
        for (let i = 0; i < exact.data.length; i++) {
          d += (k.x.data[i] - exact.data[i]) ** 2
          s += exact.data[i] ** 2
        }
        expect(Math.sqrt(d / s)).toBeLessThan(1e-5)
      }
    }
    const sync = baselines.krylovSync(fam, p, { warmStart: false, recyclePreconditioner: true, restart: 10 })
    for (const r of sync.residuals) expect(r).toBeLessThanOrEqual(1e-3)
  })

  it('types its errors', async () => {
    const dense = Family.synthetic({ n: 4, rank: 2, seed: 1 })
    expect(() => baselines.sparseSolveSync(dense as never, Float64Array.of(0.5))).toThrow(TypeError)
    await expect(baselines.krylov(dense as never, Float64Array.of(0.5))).rejects.toBeInstanceOf(TypeError)
    expectThrowsCode(() => baselines.sparseSolveSync(fam, Float64Array.of(1.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
    expect(expectThrowsCode(() => baselines.krylovSync(fam, p, { tol: 2 }), InvalidOptionError, 'INVALID_OPTION').message).toMatch(/tol/)
    expect(expectThrowsCode(() => baselines.krylovSync(fam, p, { restart: 0 }), InvalidOptionError, 'INVALID_OPTION').message).toMatch(/restart/)
    expect(() => baselines.krylovSync(fam, p, { warmStart: 'yes' } as never)).toThrow(TypeError)
    expect(() => baselines.krylovSync(fam, p, { maxIter: 1.5 })).toThrow(RangeError)
    expectThrowsCode(() => baselines.krylovSync(fam, p, { tol: 1e-10, maxIter: 2 }), ConvergenceError, 'NO_CONVERGENCE')
    await expect(baselines.krylov(fam, p, { tol: 1e-10, maxIter: 2 })).rejects.toMatchObject({ code: 'NO_CONVERGENCE' })
    expect(() => fam.residual(p, new Float64Array(10))).toThrow(RangeError)
    expectThrowsCode(() => Family.adr({ grid: 1 }), InvalidOptionError, 'INVALID_OPTION')
    expect(() => Family.adr({ grid: 2.5 })).toThrow(RangeError)
    // The default grid (n = 10⁴) is too large for dense matrices.
    expectThrowsCode(() => Family.adr().at(Float64Array.of(0.5)), InvalidInputError, 'INVALID_INPUT')
  })
})

describe('complex families and models outside inverse and svd', () => {
  it('refuse what would leak the real embedding', async () => {
    const fam = Family.cdl({ rx: { rows: 1, cols: 4 }, tx: { rows: 1, cols: 4 }, delaySpread: 10e-9, bandwidth: 50e6 })
    const f = Float64Array.of(28e9)
    expect(() => baselines.coiSync(fam)).toThrow(TypeError)
    expect(() => baselines.znnSync(fam, f)).toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'solve', { rhs: [1, 1, 1, 1] })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    const model = await NeuMatC.train(fam, 'inverse', { steps: 50 })
    expect(() => model.applySync(f, [1, 1, 1, 1])).toThrow(TypeError)
    await expect(model.apply(f, [1, 1, 1, 1])).rejects.toBeInstanceOf(TypeError)
    expect(() => model.refineSync(f, [1, 1, 1, 1])).toThrow(TypeError)
    expect(() => metrics.relErr('inverse', fam.at(f) as never, model.predictSync(f) as never)).toThrow(TypeError)
    // The structure check works on the complex model (residuals are per parameter).
    expect(model.checkSync(f).residual).toHaveLength(1)
  })
})
