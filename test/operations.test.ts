/**
 * Every operation through the public API at tiny sizes (n ≤ 12, 300 steps): training, the shapes,
 * names and dtype of predictions, held-out errors against stated budgets, the orthonormal factors,
 * `apply`, and typed errors for bad requests.
 *
 * The budgets leave a wide margin over what these runs reach (noted beside each), so that a change in
 * the optimiser's path does not fail them; a broken operation misses them by orders of magnitude.
 */
import { describe, expect, it } from 'vitest'
import {
  Family,
  InvalidInputError,
  InvalidOptionError,
  NeuMatC,
  NotPositiveDefiniteError,
  ShapeMismatchError,
  baselines,
  metrics,
  type MatrixBatch,
  type Operation,
  type TrainOptions,
} from '../ts/index.js'
import { expectRejectsCode, gemm, gridParams, maxAbs, maxAbsDiff, spdFamily, uniformParams } from './helpers.js'

/** Small, quick settings (the engine's tests/ops.rs, with half the steps). */
const QUICK: TrainOptions = {
  seed: 1,
  steps: 300,
  sampling: { supervised: 24, collocation: 24, candidates: 64, addEvery: 150 },
  validation: 16,
}

/** Well-conditioned synthetic family (cond A(p) ≈ 1.5…3). */
const synthetic = Family.synthetic({ n: 12, rank: 3, seed: 2 })
/** Symmetric positive definite, well separated eigenvalues, on a 201-point grid of [0, 1]. */
const spd = spdFamily(8)
/** 12 × 10 matrices of rank 3 at every p. */
const lowRank = Family.controlledRank({ rows: 12, cols: 10, rank: 3, paramRank: 3, seed: 1 })

const P_SYN = uniformParams(synthetic, 16, 4242)
const P_SPD = gridParams(16)
const P_LOW = uniformParams(lowRank, 16, 77)

async function trained<Op extends Operation>(fam: Family, op: Op, extra: TrainOptions = {}): Promise<NeuMatC<Op>> {
  const model = await NeuMatC.train(fam, op, { ...QUICK, ...extra })
  expect(model.operation).toBe(op)
  expect(model.report.operation).toBe(op)
  expect(model.spec.op).toBe(op)
  expect(model.dtype).toBe(extra.dtype ?? 'f32')
  expect(typeof model.report.supervisedAdded).toBe('number')
  return model
}

function expectShape(m: MatrixBatch<Float32Array | Float64Array>, batch: number, rows: number, cols: number): void {
  expect(m).toMatchObject({ batch, rows, cols })
  expect(m.data.length).toBe(batch * rows * cols)
}

describe('svd', () => {
  it('learns the thin SVD of a family with separated singular values (RelErr_svd < 1e-4)', async () => {
    const model = await trained(spd, 'svd') // reaches ≈3e-7
    expect(model.spec).toMatchObject({ rows: 8, cols: 8, rank: 8 })
    expect(model.report.heldOutRelErr as number).toBeLessThan(1e-4)
    expect(model.report.heldOutOrthogonality as number).toBeLessThan(2e-2) // ≈1e-3
    const out = await model.predict(P_SPD)
    expect(Object.keys(out)).toEqual(['U', 'S', 'V'])
    expectShape(out.U, 16, 8, 8)
    expectShape(out.S, 16, 8, 1)
    expectShape(out.V, 16, 8, 8)
    for (const c of [out.U, out.S, out.V]) expect(c.data).toBeInstanceOf(Float32Array)
    const A = spd.at(P_SPD)
    expect(metrics.relErrSvd(A, out)).toBeLessThan(1e-4)
    expect(metrics.orthogonalityDefect('svd', out)).toBeLessThan(2e-2)
    // Singular values come out in descending order, like the exact ones.
    const exact = baselines.svdSync(A)
    expect(maxAbsDiff(out.S.data, exact.S.data)).toBeLessThan(1e-2 * maxAbs(exact.S.data))
  })

  it('learns a truncated SVD of rectangular low-rank matrices (RelErr_svd < 1e-4)', async () => {
    const model = await trained(lowRank, 'svd', { rank: 3 }) // reaches ≈1e-6
    expect(model.spec).toMatchObject({ rows: 12, cols: 10, rank: 3 })
    const out = model.predictSync(P_LOW)
    expectShape(out.U, 16, 12, 3)
    expectShape(out.S, 16, 3, 1)
    expectShape(out.V, 16, 10, 3)
    expect(metrics.relErrSvd(lowRank.at(P_LOW), out)).toBeLessThan(1e-4)
    expect(metrics.orthogonalityDefect('svd', out)).toBeLessThan(5e-2) // ≈2e-3
  })
})

describe('qr', () => {
  it('learns Q and an exactly upper triangular R (RelErr_qr < 1e-4)', async () => {
    const model = await trained(synthetic, 'qr') // reaches ≈6e-7
    const out = model.predictSync(P_SYN)
    expect(Object.keys(out)).toEqual(['Q', 'R'])
    expectShape(out.Q, 16, 12, 12)
    expectShape(out.R, 16, 12, 12)
    for (let b = 0; b < 16; b++) for (let i = 0; i < 12; i++) for (let j = 0; j < i; j++) expect(out.R.data[b * 144 + i * 12 + j]).toBe(0)
    expect(metrics.relErrQr(synthetic.at(P_SYN), out)).toBeLessThan(1e-4)
    expect(metrics.orthogonalityDefect('qr', out)).toBeLessThan(2e-2) // ≈1e-3
  })
})

describe('cholesky', () => {
  it('learns an exactly lower triangular L (RelErr_cholesky < 1e-4)', async () => {
    const model = await trained(spd, 'cholesky') // reaches ≈6e-7
    const out = await model.predict(P_SPD)
    expect(Object.keys(out)).toEqual(['L'])
    expectShape(out.L, 16, 8, 8)
    for (let b = 0; b < 16; b++) for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) expect(out.L.data[b * 64 + i * 8 + j]).toBe(0)
    expect(metrics.relErrCholesky(spd.at(P_SPD), out)).toBeLessThan(1e-4)
    expect(model.report.heldOutOrthogonality).toBeNull()
  })
})

describe('eigh', () => {
  it('learns eigenvalues and orthonormal eigenvectors (RelErr_eigh < 1e-4)', async () => {
    const model = await trained(spd, 'eigh') // reaches ≈3e-7
    const out = model.predictSync(P_SPD)
    expect(Object.keys(out)).toEqual(['values', 'vectors'])
    expectShape(out.values, 16, 8, 1)
    expectShape(out.vectors, 16, 8, 8)
    const A = spd.at(P_SPD)
    expect(metrics.relErrEigh(A, out)).toBeLessThan(1e-4)
    expect(metrics.orthogonalityDefect('eigh', out)).toBeLessThan(2e-2)
    // Ascending, close to the exact eigenvalues.
    const exact = baselines.eighSync(A)
    expect(maxAbsDiff(out.values.data, exact.values.data)).toBeLessThan(1e-2)
  })
})

describe('expm', () => {
  it('learns exp(A(p)) (RelErr_expm < 1e-4)', async () => {
    const model = await trained(spd, 'expm') // reaches ≈2e-9
    const out = model.predictSync(P_SPD)
    expect(Object.keys(out)).toEqual(['expm'])
    expectShape(out.expm, 16, 8, 8)
    const A = spd.at(P_SPD)
    const e = metrics.relErrExpm(A, out)
    expect(e).toBeLessThan(1e-4)
    // The metric against a given exact exponential is the same number.
    expect(metrics.relErrExpm(A, out, baselines.expmSync(A))).toBeCloseTo(e, 12)
  })
})

describe('solve', () => {
  const rhs = Array.from({ length: 12 }, (_, i) => Math.sin(0.7 * i) + 0.5)

  it('learns x(p) = A(p)⁻¹ b for a fixed b (‖Ax − b‖/‖b‖ < 1e-2)', async () => {
    const model = await trained(synthetic, 'solve', { rhs: Float64Array.from(rhs) }) // reaches ≈1e-4
    // The right-hand side travels as JSON: equal to the last bit or so.
    const kept = model.spec.rhs as number[]
    expect(kept).toHaveLength(12)
    expect(maxAbsDiff(kept, rhs)).toBeLessThan(1e-15)
    const out = model.predictSync(P_SYN)
    expect(Object.keys(out)).toEqual(['x'])
    expectShape(out.x, 16, 12, 1)
    const A = synthetic.at(P_SYN)
    expect(metrics.relErrSolve(A, rhs, out)).toBeLessThan(1e-2)
    const exact = baselines.solveSync(A, rhs)
    expect(maxAbsDiff(out.x.data, exact.data)).toBeLessThan(1e-2 * maxAbs(exact.data))
  })

  it('needs a right-hand side of length n', async () => {
    await expectRejectsCode(NeuMatC.train(synthetic, 'solve', QUICK), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(NeuMatC.train(synthetic, 'solve', { ...QUICK, rhs: [1, 2, 3] }), ShapeMismatchError, 'SHAPE_MISMATCH')
    await expect(NeuMatC.train(synthetic, 'solve', { ...QUICK, rhs: [1, Number.NaN] })).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(synthetic, 'solve', { ...QUICK, rhs: 'b' as unknown as number[] })).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(synthetic, 'solve', { ...QUICK, rhs: [] })).rejects.toThrow(RangeError)
    await expectRejectsCode(NeuMatC.train(synthetic, 'inverse', { ...QUICK, rhs }), InvalidOptionError, 'INVALID_OPTION')
  })
})

describe('inverse: apply', () => {
  const b = Float64Array.from({ length: 12 }, (_, i) => Math.cos(i) - 0.2)
  let model: NeuMatC<'inverse'>

  it('apply(p, b) equals predict(p) · b without forming the inverse', async () => {
    model = await trained(synthetic, 'inverse', { dtype: 'f64' })
    const x = await model.apply(P_SYN, b)
    expectShape(x, 16, 12, 1)
    expect(x.data).toBeInstanceOf(Float64Array)
    const { inverse } = model.predictSync(P_SYN)
    for (let k = 0; k < 16; k++) {
      const gb = gemm(inverse.data.subarray(k * 144, (k + 1) * 144), b, 12, 12, 1)
      expect(maxAbsDiff(x.data.subarray(k * 12, (k + 1) * 12), gb)).toBeLessThan(1e-10 * Math.max(1, maxAbs(gb)))
    }
    expect(Array.from(model.applySync(P_SYN, Array.from(b)).data)).toEqual(Array.from(x.data))
    // And it solves the systems: ‖A x − b‖/‖b‖ small.
    expect(metrics.relErrSolve(synthetic.at(P_SYN), b, { x })).toBeLessThan(1e-2)
  })

  it('apply gives f32 for f32 models and refuses other operations and bad b', async () => {
    const m32 = await trained(synthetic, 'inverse')
    const x = m32.applySync(P_SYN, b)
    expect(x.data).toBeInstanceOf(Float32Array)
    expectShape(x, 16, 12, 1)
    expect(() => model.applySync(P_SYN, b.subarray(0, 5))).toThrow(ShapeMismatchError)
    await expectRejectsCode(model.apply(P_SYN, b.subarray(0, 5)), ShapeMismatchError, 'SHAPE_MISMATCH')
    expect(() => model.applySync(P_SYN, Float64Array.of(1, Number.POSITIVE_INFINITY))).toThrow(RangeError)
    expect(() => model.applySync(P_SYN, 'b' as unknown as Float64Array)).toThrow(TypeError)
    const qr = await NeuMatC.train(synthetic, 'qr', { ...QUICK, steps: 10 })
    await expectRejectsCode((qr as unknown as NeuMatC<'inverse'>).apply(P_SYN, b), InvalidOptionError, 'INVALID_OPTION')
  })
})

describe('bad requests get typed errors', () => {
  it('non-square families', async () => {
    for (const op of ['inverse', 'cholesky', 'eigh', 'expm'] as const) {
      await expectRejectsCode(NeuMatC.train(lowRank, op, QUICK), ShapeMismatchError, 'SHAPE_MISMATCH')
    }
  })

  it('an SVD rank above min(m, n), a rank for another operation', async () => {
    await expectRejectsCode(NeuMatC.train(synthetic, 'svd', { ...QUICK, rank: 13 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(NeuMatC.train(synthetic, 'qr', { ...QUICK, rank: 2 }), InvalidOptionError, 'INVALID_OPTION')
    await expect(NeuMatC.train(synthetic, 'svd', { ...QUICK, rank: 1.5 })).rejects.toThrow(RangeError)
  })

  it('cholesky of non-symmetric or indefinite matrices', async () => {
    await expectRejectsCode(NeuMatC.train(synthetic, 'cholesky', QUICK), InvalidInputError, 'INVALID_INPUT')
    // A(p) − 3I is symmetric and indefinite (its eigenvalues start near 1).
    const grid = Float64Array.from({ length: 41 }, (_, i) => i / 40)
    const A = spdFamily(8, 41).at(grid)
    const shifted = A.data.slice()
    for (let b = 0; b < A.batch; b++) for (let i = 0; i < 8; i++) shifted[b * 64 + i * 9] -= 3
    const indefinite = Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...A, data: shifted } })
    await expectRejectsCode(NeuMatC.train(indefinite, 'cholesky', QUICK), NotPositiveDefiniteError, 'NOT_POSITIVE_DEFINITE')
  })
})
