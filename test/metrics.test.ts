import { describe, expect, it } from 'vitest'
import {
  InvalidInputError,
  InvalidOptionError,
  ShapeMismatchError,
  baselines,
  metrics,
  type Components,
  type MatrixBatch,
} from '../ts/index.js'
import { expectThrowsCode, randomMatrices } from './helpers.js'

describe('metrics.relErrInverse', () => {
  it('follows the paper: mean_p ‖A G − I‖²_F / ‖I‖²_F', () => {
    const A: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1, 1, 0, 0, 1) }
    // G = 2I: ‖I‖² / ‖I‖² = 1; G = I: 0; the mean over the batch is 0.5.
    expect(metrics.relErrInverse(A, { ...A, data: Float64Array.of(2, 0, 0, 2, 1, 0, 0, 1) })).toBeCloseTo(0.5, 15)
    // G = 0: ‖−I‖² / ‖I‖² = 1.
    expect(metrics.relErrInverse(A, { ...A, data: new Float64Array(8) })).toBeCloseTo(1, 15)
    // One off-diagonal error of 0.1 in a 2x2: 0.01 / 2.
    const one: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1) }
    expect(metrics.relErrInverse(one, { ...one, data: Float64Array.of(1, 0.1, 0, 1) })).toBeCloseTo(0.005, 15)
  })

  it('is ~0 for exact inverses and accepts Float32Array predictions', () => {
    const A: MatrixBatch = { batch: 3, rows: 8, cols: 8, data: randomMatrices(3, 8, 9) }
    const X = baselines.inverseSync(A)
    expect(metrics.relErrInverse(A, X)).toBeLessThan(1e-28)
    const X32 = { ...X, data: Float32Array.from(X.data) }
    const e32 = metrics.relErrInverse(A, X32)
    expect(e32).toBeGreaterThan(0)
    expect(e32).toBeLessThan(1e-12)
  })

  it('reports mismatched shapes as ShapeMismatchError', () => {
    const A: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: randomMatrices(2, 2, 1) }
    // Different batch.
    expectThrowsCode(() => metrics.relErrInverse(A, { batch: 1, rows: 2, cols: 2, data: new Float64Array(4) }), ShapeMismatchError, 'SHAPE_MISMATCH')
    // Same number of values, different shape.
    expectThrowsCode(() => metrics.relErrInverse(A, { batch: 1, rows: 2, cols: 4, data: new Float64Array(8) }), ShapeMismatchError, 'SHAPE_MISMATCH')
    // Non-square A.
    const R: MatrixBatch = { batch: 1, rows: 2, cols: 3, data: new Float64Array(6) }
    expectThrowsCode(() => metrics.relErrInverse(R, R), ShapeMismatchError, 'SHAPE_MISMATCH')
  })

  it('rejects malformed batches before calling Rust', () => {
    const A: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1) }
    expect(() => metrics.relErrInverse(A, { ...A, data: Int32Array.of(1, 0, 0, 1) as unknown as Float64Array })).toThrow(TypeError)
    expect(() => metrics.relErrInverse({ ...A, data: Float32Array.of(1, 0, 0, 1) as unknown as Float64Array }, A)).toThrow(TypeError)
    expect(() => metrics.relErrInverse(A, { ...A, data: Float64Array.of(1, 0, 0) })).toThrow(RangeError)
    expect(() => metrics.relErrInverse(A, undefined as unknown as MatrixBatch)).toThrow(TypeError)
  })
})

/** One matrix as a batch of one. */
function one(rows: number, cols: number, ...values: number[]): MatrixBatch {
  return { batch: 1, rows, cols, data: Float64Array.from(values) }
}

describe('metrics for every operation (hand-computed values)', () => {
  const eye2 = one(2, 2, 1, 0, 0, 1)

  it('relErrSvd: ‖U diag(S) Vᵀ − A‖²_F / ‖A‖²_F', () => {
    // A = diag(3, 2) = I diag(3, 2) I; S₀ off by 0.3: 0.09 / 13.
    const A = one(2, 2, 3, 0, 0, 2)
    expect(metrics.relErrSvd(A, { U: eye2, S: one(2, 1, 3, 2), V: eye2 })).toBe(0)
    expect(metrics.relErrSvd(A, { U: eye2, S: one(2, 1, 3.3, 2), V: eye2 })).toBeCloseTo(0.09 / 13, 15)
    // Rank 1 of diag(3, 2): the tail 4 / 13; f32 factors are accepted.
    const u = { batch: 1, rows: 2, cols: 1, data: Float32Array.of(1, 0) }
    expect(metrics.relErrSvd(A, { U: u, S: one(1, 1, 3), V: u })).toBeCloseTo(4 / 13, 15)
    // The mean over a batch.
    const A2: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(3, 0, 0, 2, 3, 0, 0, 2) }
    const I2: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1, 1, 0, 0, 1) }
    const S2: MatrixBatch = { batch: 2, rows: 2, cols: 1, data: Float64Array.of(3, 2, 3.3, 2) }
    expect(metrics.relErrSvd(A2, { U: I2, S: S2, V: I2 })).toBeCloseTo(0.09 / 26, 15)
  })

  it('relErrQr: ‖QR − A‖²_F / ‖A‖²_F', () => {
    const A = one(2, 2, 1, 2, 0, 3)
    expect(metrics.relErrQr(A, { Q: eye2, R: A })).toBe(0)
    expect(metrics.relErrQr(A, { Q: eye2, R: one(2, 2, 1, 2.1, 0, 3) })).toBeCloseTo(0.01 / 14, 15)
  })

  it('relErrCholesky: ‖LLᵀ − A‖²_F / ‖A‖²_F', () => {
    const A = one(2, 2, 4, 0, 0, 9)
    expect(metrics.relErrCholesky(A, { L: one(2, 2, 2, 0, 0, 3) })).toBe(0)
    // L = [[2, 0], [δ, 3]]: LLᵀ − A = [[0, 2δ], [2δ, δ²]].
    const d = 0.1
    expect(metrics.relErrCholesky(A, { L: one(2, 2, 2, 0, d, 3) })).toBeCloseTo((8 * d * d + d ** 4) / 97, 15)
  })

  it('relErrEigh: ‖V diag(λ) Vᵀ − A‖²_F / ‖A‖²_F', () => {
    // [[2, 1], [1, 2]] = V diag(1, 3) Vᵀ, V = [[1, 1], [−1, 1]] / √2; λ₁ off by 0.1: 0.01 / 10.
    const A = one(2, 2, 2, 1, 1, 2)
    const r = Math.SQRT1_2
    const vectors = one(2, 2, r, r, -r, r)
    expect(metrics.relErrEigh(A, { values: one(2, 1, 1, 3), vectors })).toBeLessThan(1e-30)
    expect(metrics.relErrEigh(A, { values: one(2, 1, 1, 3.1), vectors })).toBeCloseTo(0.01 / 10, 15)
  })

  it('relErrExpm: ‖Ĝ − e^A‖²_F / ‖e^A‖²_F, computing e^A unless given', () => {
    // A = diag(0, ln 2): e^A = diag(1, 2), ‖e^A‖² = 5; an error 0.1 at (0, 1): 0.01 / 5.
    const A = one(2, 2, 0, 0, 0, Math.LN2)
    const G = one(2, 2, 1, 0.1, 0, 2)
    expect(metrics.relErrExpm(A, { expm: G })).toBeCloseTo(0.01 / 5, 15)
    expect(metrics.relErrExpm(A, { expm: G }, one(2, 2, 1, 0, 0, 2))).toBeCloseTo(0.01 / 5, 15)
    // Against a wrong "exact" result the metric follows what it was given.
    expect(metrics.relErrExpm(A, { expm: G }, one(2, 2, 1, 0.1, 0, 2))).toBe(0)
    expect(() => metrics.relErrExpm(A, { expm: G }, one(1, 1, 1))).toThrow(RangeError)
  })

  it('relErrSolve: ‖Ax − b‖₂ / ‖b‖₂ (not squared), shared or per-matrix b', () => {
    // A = diag(2, 4), b = (2, 4): x = (1.1, 1) leaves (0.2, 0): 0.2 / √20.
    const A: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(2, 0, 0, 4, 2, 0, 0, 4) }
    const x: MatrixBatch = { batch: 2, rows: 2, cols: 1, data: Float64Array.of(1, 1, 1.1, 1) }
    expect(metrics.relErrSolve(A, [2, 4], { x })).toBeCloseTo(0.2 / Math.sqrt(20) / 2, 15)
    expect(metrics.relErrSolve(A, Float64Array.of(2, 4, 2.2, 4), { x })).toBe(0)
    expectThrowsCode(() => metrics.relErrSolve(A, [2, 4, 6], { x }), ShapeMismatchError, 'SHAPE_MISMATCH')
    expect(() => metrics.relErrSolve(A, undefined as unknown as number[], { x })).toThrow(TypeError)
  })

  it('relErr is the generic form; inverse agrees with relErrInverse', () => {
    const A: MatrixBatch = { batch: 3, rows: 4, cols: 4, data: randomMatrices(3, 4, 3) }
    const G: MatrixBatch = { ...A, data: randomMatrices(3, 4, 4).map((v) => v / 16) }
    expect(metrics.relErr('inverse', A, { inverse: G })).toBeCloseTo(metrics.relErrInverse(A, G), 12)
    const svd = baselines.svdSync(A)
    expect(metrics.relErr('svd', A, svd)).toBe(metrics.relErrSvd(A, svd))
    expect(metrics.relErr('solve', A, { x: baselines.solveSync(A, [1, 2, 3, 4]) }, { rhs: [1, 2, 3, 4] })).toBeLessThan(1e-15)
    expectThrowsCode(() => metrics.relErr('solve', A, { x: baselines.solveSync(A, [1, 2, 3, 4]) }), InvalidOptionError, 'INVALID_OPTION')
    expect(() => metrics.relErr('lu' as 'svd', A, svd)).toThrow(RangeError)
  })

  it('orthogonalityDefect: the largest ‖XᵀX − I‖_F / √r over factors and batch', () => {
    // Q = 2·I₂: QᵀQ − I = 3·I₂, ‖·‖_F / √2 = 3.
    const twice: Components<'qr'> = { Q: one(2, 2, 2, 0, 0, 2), R: eye2 }
    expect(metrics.orthogonalityDefect('qr', twice)).toBeCloseTo(3, 15)
    const A: MatrixBatch = { batch: 2, rows: 5, cols: 3, data: randomMatrices(2, 5, 5).subarray(0, 30) }
    const svd = baselines.svdSync(A)
    expect(metrics.orthogonalityDefect('svd', svd)).toBeLessThan(1e-14)
    // Scaling V of the second matrix by 1.1: (1.21 − 1)·‖I₃‖_F / √3 = 0.21.
    const V = { ...svd.V, data: svd.V.data.map((v, i) => (i >= 9 ? 1.1 * v : v)) }
    expect(metrics.orthogonalityDefect('svd', { ...svd, V })).toBeCloseTo(0.21, 12)
    const S: MatrixBatch = { batch: 1, rows: 3, cols: 3, data: Float64Array.of(2, 1, 0, 1, 2, 0, 0, 0, 5) }
    expect(metrics.orthogonalityDefect('eigh', baselines.eighSync(S))).toBeLessThan(1e-14)
    expectThrowsCode(() => metrics.orthogonalityDefect('cholesky' as 'qr', { L: eye2 } as never), InvalidOptionError, 'INVALID_OPTION')
  })

  it('reports malformed results as typed errors', () => {
    const A: MatrixBatch = { batch: 1, rows: 3, cols: 2, data: Float64Array.of(1, 2, 3, 4, 5, 6) }
    const svd = baselines.svdSync(A)
    // U given as (batch, r, m): the same number of values, the wrong shape.
    const Ut = { ...svd.U, rows: 2, cols: 3 }
    expectThrowsCode(() => metrics.relErrSvd(A, { ...svd, U: Ut }), ShapeMismatchError, 'SHAPE_MISMATCH')
    // A rank above min(m, n).
    const big = { U: { batch: 1, rows: 3, cols: 3, data: new Float64Array(9) }, S: one(3, 1, 1, 1, 1), V: { batch: 1, rows: 2, cols: 3, data: new Float64Array(6) } }
    expectThrowsCode(() => metrics.relErrSvd(A, big), InvalidOptionError, 'INVALID_OPTION')
    // A missing component, a wrong dtype.
    expect(() => metrics.relErrSvd(A, { U: svd.U, S: svd.S } as never)).toThrow(TypeError)
    expect(() => metrics.relErrQr(A, { Q: A, R: { ...svd.V, data: Int32Array.of(1, 2, 3, 4) as never } })).toThrow(TypeError)
    // NaN in a prediction; non-square A for a square-only operation.
    const nan = { ...svd.S, data: Float64Array.of(Number.NaN, 1) }
    expectThrowsCode(() => metrics.relErrSvd(A, { ...svd, S: nan }), InvalidInputError, 'INVALID_INPUT')
    expectThrowsCode(() => metrics.relErrCholesky(A, { L: A }), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})
