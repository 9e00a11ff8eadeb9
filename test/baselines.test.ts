import { describe, expect, it } from 'vitest'
import {
  Family,
  InvalidInputError,
  InvalidOptionError,
  NotPositiveDefiniteError,
  OutOfDomainError,
  ShapeMismatchError,
  SingularMatrixError,
  baselines,
  matrixAt,
  metrics,
  type MatrixBatch,
} from '../ts/index.js'
import {
  expectRejectsCode,
  expectThrowsCode,
  gemm,
  matmul,
  maxAbs,
  maxAbsDiff,
  orthonormalityError,
  randomMatrices,
  rng,
} from './helpers.js'

function maxIdentityError(A: MatrixBatch, X: MatrixBatch): number {
  const n = A.rows
  let worst = 0
  for (let b = 0; b < A.batch; b++) {
    const P = matmul(A.data.subarray(b * n * n, (b + 1) * n * n), X.data.subarray(b * n * n, (b + 1) * n * n), n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(P[i * n + j] - (i === j ? 1 : 0)))
  }
  return worst
}

describe('baselines.inverse', () => {
  const A: MatrixBatch = { batch: 4, rows: 6, cols: 6, data: randomMatrices(4, 6, 42) }

  it('inverts every matrix of a batch (sync)', () => {
    const X = baselines.inverseSync(A)
    expect(X).toMatchObject({ batch: 4, rows: 6, cols: 6 })
    expect(X.data).toBeInstanceOf(Float64Array)
    expect(X.data.length).toBe(4 * 36)
    expect(maxIdentityError(A, X)).toBeLessThan(1e-12)
  })

  it('inverts exactly known matrices', () => {
    const X = baselines.inverseSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(2, 0, 0, 4) })
    expect(Array.from(X.data)).toEqual([0.5, 0, 0, 0.25])
    const Y = baselines.inverseSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(0, 1, 1, 0) })
    expect(Array.from(Y.data)).toEqual([0, 1, 1, 0])
  })

  it('gives the same result async, and copies the input first', async () => {
    const expected = Array.from(baselines.inverseSync(A).data)
    const copy: MatrixBatch = { ...A, data: A.data.slice() }
    const pending = baselines.inverse(copy)
    copy.data.fill(0) // a singular batch if the call had not copied
    const X = await pending
    expect(Array.from(X.data)).toEqual(expected)
  })

  it('reports singular matrices as SingularMatrixError, sync and async', async () => {
    const S: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1, 1, 2, 2, 4) }
    expectThrowsCode(() => baselines.inverseSync(S), SingularMatrixError, 'SINGULAR')
    await expectRejectsCode(baselines.inverse(S), SingularMatrixError, 'SINGULAR')
    const Z: MatrixBatch = { batch: 1, rows: 3, cols: 3, data: new Float64Array(9) }
    expectThrowsCode(() => baselines.inverseSync(Z), SingularMatrixError, 'SINGULAR')
  })

  it('reports non-square matrices as ShapeMismatchError, sync and async', async () => {
    const R: MatrixBatch = { batch: 1, rows: 2, cols: 3, data: Float64Array.of(1, 2, 3, 4, 5, 6) }
    expectThrowsCode(() => baselines.inverseSync(R), ShapeMismatchError, 'SHAPE_MISMATCH')
    await expectRejectsCode(baselines.inverse(R), ShapeMismatchError, 'SHAPE_MISMATCH')
  })

  it('reports NaN/Inf entries as InvalidInputError, sync and async', async () => {
    const N: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, Number.NaN, 0, 1) }
    expectThrowsCode(() => baselines.inverseSync(N), InvalidInputError, 'INVALID_INPUT')
    await expectRejectsCode(baselines.inverse({ ...N, data: Float64Array.of(1, 0, Number.POSITIVE_INFINITY, 1) }), InvalidInputError, 'INVALID_INPUT')
  })

  it('rejects malformed batches before calling Rust', async () => {
    const ok = { batch: 1, rows: 2, cols: 2 }
    expect(() => baselines.inverseSync({ ...ok, data: [1, 0, 0, 1] as unknown as Float64Array })).toThrow(TypeError)
    expect(() => baselines.inverseSync({ ...ok, data: Float32Array.of(1, 0, 0, 1) as unknown as Float64Array })).toThrow(TypeError)
    expect(() => baselines.inverseSync({ ...ok, data: Float64Array.of(1, 0, 0) })).toThrow(RangeError)
    expect(() => baselines.inverseSync({ ...ok, batch: 0, data: new Float64Array(0) })).toThrow(RangeError)
    expect(() => baselines.inverseSync({ ...ok, rows: 1.5, data: Float64Array.of(1, 0, 0, 1) })).toThrow(RangeError)
    expect(() => baselines.inverseSync(null as unknown as MatrixBatch)).toThrow(TypeError)
    await expect(baselines.inverse({ ...ok, data: Float64Array.of(1) })).rejects.toThrow(RangeError)
  })
})

/** A batch of `batch` random `m × n` matrices, entries uniform in [-1, 1). */
function randomBatch(batch: number, m: number, n: number, seed: number): MatrixBatch {
  const next = rng(seed)
  return { batch, rows: m, cols: n, data: Float64Array.from({ length: batch * m * n }, () => 2 * next() - 1) }
}

/** A batch of symmetric positive definite `n × n` matrices `B Bᵀ + n I`. */
function spdBatch(batch: number, n: number, seed: number): MatrixBatch {
  const B = randomBatch(batch, n, n, seed)
  const data = new Float64Array(batch * n * n)
  for (let b = 0; b < batch; b++) {
    const bbt = gemm(matrixAt(B, b), matrixAt(B, b), n, n, n, { tb: true })
    for (let i = 0; i < n; i++) bbt[i * n + i] += n
    data.set(bbt, b * n * n)
  }
  return { batch, rows: n, cols: n, data }
}

/** `U diag(S) Vᵀ` of matrix `b` of an SVD result. */
function reconstruct(r: baselines.SvdResult, b: number): Float64Array {
  const { rows: m, cols: k } = r.U
  const n = r.V.rows
  const u = matrixAt(r.U, b)
  const s = matrixAt(r.S, b)
  const us = Float64Array.from(u, (v, i) => v * s[i % k])
  return gemm(us, matrixAt(r.V, b), m, k, n, { tb: true })
}

describe('baselines.svd', () => {
  const A = randomBatch(3, 6, 4, 1)

  it('U diag(S) Vᵀ = A with orthonormal U, V and descending S', async () => {
    const r = baselines.svdSync(A)
    expect(r.U).toMatchObject({ batch: 3, rows: 6, cols: 4 })
    expect(r.S).toMatchObject({ batch: 3, rows: 4, cols: 1 })
    expect(r.V).toMatchObject({ batch: 3, rows: 4, cols: 4 })
    for (const c of [r.U, r.S, r.V]) expect(c.data).toBeInstanceOf(Float64Array)
    for (let b = 0; b < 3; b++) {
      expect(maxAbsDiff(reconstruct(r, b), matrixAt(A, b))).toBeLessThan(1e-14)
      expect(orthonormalityError(matrixAt(r.U, b), 6, 4)).toBeLessThan(1e-14)
      expect(orthonormalityError(matrixAt(r.V, b), 4, 4)).toBeLessThan(1e-14)
      const s = matrixAt(r.S, b)
      for (let i = 1; i < 4; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1])
      expect(s[3]).toBeGreaterThanOrEqual(0)
    }
    const async = await baselines.svd(A)
    expect(Array.from(async.S.data)).toEqual(Array.from(r.S.data))
  })

  it('truncates to a rank: the error is the tail energy', () => {
    const full = baselines.svdSync(A)
    const r = baselines.svdSync(A, { rank: 2 })
    expect(r.U).toMatchObject({ rows: 6, cols: 2 })
    expect(r.S).toMatchObject({ rows: 2, cols: 1 })
    expect(r.V).toMatchObject({ rows: 4, cols: 2 })
    let want = 0
    for (let b = 0; b < 3; b++) {
      const s = matrixAt(full.S, b)
      want += (s[2] ** 2 + s[3] ** 2) / (s[0] ** 2 + s[1] ** 2 + s[2] ** 2 + s[3] ** 2) / 3
    }
    expect(metrics.relErrSvd(A, r)).toBeCloseTo(want, 12)
  })

  it('reports bad ranks', async () => {
    expectThrowsCode(() => baselines.svdSync(A, { rank: 5 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => baselines.svdSync(A, { rank: 0 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(baselines.svd(A, { rank: 9 }), InvalidOptionError, 'INVALID_OPTION')
    expect(() => baselines.svdSync(A, { rank: 1.5 })).toThrow(RangeError)
    expect(() => baselines.svdSync(A, { rank: '2' as unknown as number })).toThrow(TypeError)
  })
})

describe('baselines.qr', () => {
  it('QR = A, Qᵀ Q = I, R upper triangular with diag(R) ≥ 0', async () => {
    const A = randomBatch(2, 5, 3, 2)
    const { Q, R } = await baselines.qr(A)
    expect(Q).toMatchObject({ batch: 2, rows: 5, cols: 3 })
    expect(R).toMatchObject({ batch: 2, rows: 3, cols: 3 })
    for (let b = 0; b < 2; b++) {
      const q = matrixAt(Q, b)
      const r = matrixAt(R, b)
      expect(maxAbsDiff(gemm(q, r, 5, 3, 3), matrixAt(A, b))).toBeLessThan(1e-14)
      expect(orthonormalityError(q, 5, 3)).toBeLessThan(1e-14)
      for (let i = 0; i < 3; i++) {
        expect(r[i * 3 + i]).toBeGreaterThanOrEqual(0)
        for (let j = 0; j < i; j++) expect(r[i * 3 + j]).toBe(0)
      }
    }
    expect(metrics.relErrQr(A, baselines.qrSync(A))).toBeLessThan(1e-28)
  })

  it('needs rows ≥ cols', async () => {
    const wide = randomBatch(1, 2, 3, 3)
    expectThrowsCode(() => baselines.qrSync(wide), ShapeMismatchError, 'SHAPE_MISMATCH')
    await expectRejectsCode(baselines.qr(wide), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('baselines.cholesky', () => {
  it('L Lᵀ = A with L lower triangular', async () => {
    const A = spdBatch(3, 5, 4)
    const L = await baselines.cholesky(A)
    expect(L).toMatchObject({ batch: 3, rows: 5, cols: 5 })
    for (let b = 0; b < 3; b++) {
      const l = matrixAt(L, b)
      expect(maxAbsDiff(gemm(l, l, 5, 5, 5, { tb: true }), matrixAt(A, b))).toBeLessThan(1e-13 * maxAbs(matrixAt(A, b)))
      for (let i = 0; i < 5; i++) {
        expect(l[i * 5 + i]).toBeGreaterThan(0)
        for (let j = i + 1; j < 5; j++) expect(l[i * 5 + j]).toBe(0)
      }
    }
    expect(Array.from(baselines.choleskySync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(4, 0, 0, 9) }).data)).toEqual([2, 0, 0, 3])
  })

  it('reports indefinite, non-symmetric and non-square matrices', async () => {
    const indefinite: MatrixBatch = { batch: 2, rows: 2, cols: 2, data: Float64Array.of(4, 0, 0, 9, 1, 2, 2, 1) }
    expectThrowsCode(() => baselines.choleskySync(indefinite), NotPositiveDefiniteError, 'NOT_POSITIVE_DEFINITE')
    await expectRejectsCode(baselines.cholesky(indefinite), NotPositiveDefiniteError, 'NOT_POSITIVE_DEFINITE')
    const skew: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(4, 1, 0, 9) }
    expectThrowsCode(() => baselines.choleskySync(skew), InvalidInputError, 'INVALID_INPUT')
    expectThrowsCode(() => baselines.choleskySync(randomBatch(1, 3, 2, 5)), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('baselines.eigh', () => {
  it('A V = V diag(λ), Vᵀ V = I, λ ascending', async () => {
    const A = spdBatch(2, 6, 6)
    const { values, vectors } = await baselines.eigh(A)
    expect(values).toMatchObject({ batch: 2, rows: 6, cols: 1 })
    expect(vectors).toMatchObject({ batch: 2, rows: 6, cols: 6 })
    for (let b = 0; b < 2; b++) {
      const v = matrixAt(vectors, b)
      const l = matrixAt(values, b)
      const av = gemm(matrixAt(A, b), v, 6, 6, 6)
      const vl = Float64Array.from(v, (x, i) => x * l[i % 6])
      expect(maxAbsDiff(av, vl)).toBeLessThan(1e-13 * maxAbs(matrixAt(A, b)))
      expect(orthonormalityError(v, 6, 6)).toBeLessThan(1e-14)
      for (let i = 1; i < 6; i++) expect(l[i]).toBeGreaterThanOrEqual(l[i - 1])
    }
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3.
    const two = baselines.eighSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(2, 1, 1, 2) })
    expect(two.values.data[0]).toBeCloseTo(1, 14)
    expect(two.values.data[1]).toBeCloseTo(3, 14)
    expect(metrics.relErrEigh(A, baselines.eighSync(A))).toBeLessThan(1e-28)
  })

  it('reports non-symmetric and non-square matrices', () => {
    expectThrowsCode(() => baselines.eighSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, 2, 3, 4) }), InvalidInputError, 'INVALID_INPUT')
    expectThrowsCode(() => baselines.eighSync(randomBatch(1, 2, 3, 7)), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('baselines.expm', () => {
  /** `Σ_{k ≤ 30} Aᵏ/k!`, exact to round-off for ‖A‖ ≤ 1/2. */
  function series(a: ArrayLike<number>, n: number): Float64Array {
    const sum = new Float64Array(n * n)
    let term = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0))
    for (let k = 1; k <= 30; k++) {
      sum.forEach((_, i) => (sum[i] += term[i]))
      term = gemm(term, a, n, n, n).map((v) => v / k)
    }
    return sum
  }

  it('matches the Taylor series at small norm, and closed forms', async () => {
    const A = randomBatch(3, 5, 5, 8)
    A.data.forEach((v, i) => (A.data[i] = v / 10)) // ‖A‖₂ ≤ ‖A‖_F ≤ 0.5
    const E = await baselines.expm(A)
    expect(E).toMatchObject({ batch: 3, rows: 5, cols: 5 })
    for (let b = 0; b < 3; b++) expect(maxAbsDiff(matrixAt(E, b), series(matrixAt(A, b), 5))).toBeLessThan(1e-14)
    // A nilpotent matrix: exp([[0, 1], [0, 0]]) = [[1, 1], [0, 1]]; a diagonal one: exp(diag(0, ln 2)) = diag(1, 2).
    expect(Array.from(baselines.expmSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(0, 1, 0, 0) }).data)).toEqual([1, 1, 0, 1])
    const d = baselines.expmSync({ batch: 1, rows: 2, cols: 2, data: Float64Array.of(0, 0, 0, Math.LN2) }).data
    expect(maxAbsDiff(d, [1, 0, 0, 2])).toBeLessThan(1e-15)
    expectThrowsCode(() => baselines.expmSync(randomBatch(1, 2, 3, 9)), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('baselines.solve', () => {
  const A: MatrixBatch = { batch: 3, rows: 5, cols: 5, data: randomMatrices(3, 5, 10) }

  it('solves A x = b for a shared and for per-matrix right-hand sides', async () => {
    const b = [1, -2, 0.5, 3, 0]
    const x = await baselines.solve(A, b)
    expect(x).toMatchObject({ batch: 3, rows: 5, cols: 1 })
    for (let k = 0; k < 3; k++) expect(maxAbsDiff(gemm(matrixAt(A, k), matrixAt(x, k), 5, 5, 1), b)).toBeLessThan(1e-13)
    expect(metrics.relErrSolve(A, b, { x })).toBeLessThan(1e-15)
    // It agrees with the LU inverse times b.
    const inv = baselines.inverseSync(A)
    for (let k = 0; k < 3; k++) expect(maxAbsDiff(gemm(matrixAt(inv, k), b, 5, 5, 1), matrixAt(x, k))).toBeLessThan(1e-14)
    const many = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i))
    const y = baselines.solveSync(A, many)
    for (let k = 0; k < 3; k++) {
      expect(maxAbsDiff(gemm(matrixAt(A, k), matrixAt(y, k), 5, 5, 1), many.subarray(5 * k, 5 * k + 5))).toBeLessThan(1e-13)
    }
    expect(metrics.relErrSolve(A, many, { x: y })).toBeLessThan(1e-15)
  })

  it('reports bad right-hand sides and singular matrices', async () => {
    expectThrowsCode(() => baselines.solveSync(A, [1, 2, 3]), ShapeMismatchError, 'SHAPE_MISMATCH')
    await expectRejectsCode(baselines.solve(A, [1, 2, 3]), ShapeMismatchError, 'SHAPE_MISMATCH')
    expect(() => baselines.solveSync(A, [1, 2, 3, 4, Number.NaN])).toThrow(RangeError)
    expect(() => baselines.solveSync(A, 'b' as unknown as number[])).toThrow(TypeError)
    const S: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, 2, 2, 4) }
    expectThrowsCode(() => baselines.solveSync(S, [1, 1]), SingularMatrixError, 'SINGULAR')
  })
})

describe('baselines.rsvd / crsvd', () => {
  /** A batch of exactly rank-2 `8 × 6` matrices. */
  function rankTwo(batch: number, seed: number): MatrixBatch {
    const L = randomBatch(batch, 8, 2, seed)
    const R = randomBatch(batch, 2, 6, seed + 1)
    const data = new Float64Array(batch * 48)
    for (let b = 0; b < batch; b++) data.set(gemm(matrixAt(L, b), matrixAt(R, b), 8, 2, 6), b * 48)
    return { batch, rows: 8, cols: 6, data }
  }

  it('recovers an exactly low-rank matrix and is reproducible from its seed', async () => {
    const A = rankTwo(3, 11)
    const r = await baselines.rsvd(A, { rank: 2, oversample: 2, powerIters: 1, seed: 5 })
    expect(r.U).toMatchObject({ batch: 3, rows: 8, cols: 2 })
    expect(r.S).toMatchObject({ batch: 3, rows: 2, cols: 1 })
    expect(r.V).toMatchObject({ batch: 3, rows: 6, cols: 2 })
    expect(metrics.relErrSvd(A, r)).toBeLessThan(1e-26)
    expect(metrics.orthogonalityDefect('svd', r)).toBeLessThan(1e-14)
    // Same seed: the very same numbers, sync or async; another seed: the same subspace, other round-off.
    const again = baselines.rsvdSync(A, { rank: 2, oversample: 2, powerIters: 1, seed: 5 })
    expect(Array.from(again.U.data)).toEqual(Array.from(r.U.data))
    expect(Array.from(again.S.data)).toEqual(Array.from(r.S.data))
    const other = baselines.rsvdSync(A, { rank: 2, oversample: 2, powerIters: 1, seed: 6 })
    expect(Array.from(other.U.data)).not.toEqual(Array.from(r.U.data))
    expect(maxAbsDiff(other.S.data, r.S.data)).toBeLessThan(1e-12 * maxAbs(r.S.data))
    // The singular values are the exact ones.
    expect(maxAbsDiff(r.S.data, baselines.svdSync(A, { rank: 2 }).S.data)).toBeLessThan(1e-12 * maxAbs(r.S.data))
  })

  it('on a full-rank matrix gets close to the best rank-r error', () => {
    const A = randomBatch(2, 10, 8, 12)
    const best = metrics.relErrSvd(A, baselines.svdSync(A, { rank: 4 }))
    const r = metrics.relErrSvd(A, baselines.rsvdSync(A, { rank: 4, powerIters: 2, seed: 1 }))
    expect(r).toBeGreaterThanOrEqual(best * (1 - 1e-12))
    expect(r).toBeLessThan(1.5 * best)
  })

  it('crsvd shares one test matrix: each matrix gets what rsvd gives it alone', async () => {
    const A = rankTwo(3, 13)
    const options = { rank: 2, oversample: 1, seed: 9 }
    const shared = await baselines.crsvd(A, options)
    expect(metrics.relErrSvd(A, shared)).toBeLessThan(1e-26)
    for (let b = 0; b < 3; b++) {
      const alone = baselines.rsvdSync({ batch: 1, rows: 8, cols: 6, data: matrixAt(A, b) }, options)
      expect(maxAbsDiff(matrixAt(shared.U, b), alone.U.data)).toBeLessThan(1e-12)
      expect(maxAbsDiff(matrixAt(shared.S, b), alone.S.data)).toBeLessThan(1e-12)
    }
    expect(Array.from(baselines.crsvdSync(A, options).V.data)).toEqual(Array.from(shared.V.data))
  })

  it('reports bad options', async () => {
    const A = rankTwo(1, 14)
    expectThrowsCode(() => baselines.rsvdSync(A, { rank: 7 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(baselines.crsvd(A, { rank: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => baselines.rsvdSync(A, { rank: 2, oversampling: 3 } as never), InvalidOptionError, 'INVALID_OPTION')
    expect(() => baselines.rsvdSync(A, { rank: 2, seed: -1 })).toThrow(RangeError)
    expect(() => baselines.rsvdSync(A, { rank: 'two' as unknown as number })).toThrow(TypeError)
  })
})

describe('baselines.newtonSchulz', () => {
  const A: MatrixBatch = { batch: 3, rows: 6, cols: 6, data: randomMatrices(3, 6, 15) }

  it('converges to the LU inverse and reports its iterations', async () => {
    const { inverse, iterations } = await baselines.newtonSchulz(A, { tol: 1e-12 })
    expect(inverse).toMatchObject({ batch: 3, rows: 6, cols: 6 })
    expect(iterations).toHaveLength(3)
    for (const k of iterations) {
      expect(Number.isInteger(k)).toBe(true)
      expect(k).toBeGreaterThan(0)
      expect(k).toBeLessThan(100)
    }
    expect(maxAbsDiff(inverse.data, baselines.inverseSync(A).data)).toBeLessThan(1e-12)
    expect(metrics.relErrInverse(A, inverse)).toBeLessThan(1e-24)
  })

  it('returns its last iterate when out of iterations, not an error', () => {
    const few = baselines.newtonSchulzSync(A, { maxIters: 2, tol: 0 })
    expect(few.iterations).toEqual([2, 2, 2])
    expect(metrics.relErrInverse(A, few.inverse)).toBeGreaterThan(1e-6)
    expectThrowsCode(() => baselines.newtonSchulzSync(A, { maxIters: 20_000 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => baselines.newtonSchulzSync({ batch: 1, rows: 2, cols: 2, data: new Float64Array(4) }), SingularMatrixError, 'SINGULAR')
    expectThrowsCode(() => baselines.newtonSchulzSync(randomBatch(1, 2, 3, 16)), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('baselines.coi', () => {
  const fam = Family.synthetic({ n: 8, rank: 2, seed: 2 })

  /** COI's RelErr_inv at the midpoints between its nodes. */
  function midpointError(coi: baselines.Coi): number {
    const nodes = coi.nodes
    const between = Float64Array.from({ length: nodes.length - 1 }, (_, i) => (nodes[i] + nodes[i + 1]) / 2)
    return metrics.relErrInverse(fam.at(between), coi.inverseSync(between))
  }

  it('is exact at its nodes, and its error between them falls geometrically with the node count', async () => {
    const coi = await baselines.coi(fam, { nodes: 64 })
    expect(coi).toBeInstanceOf(baselines.Coi)
    expect(coi.n).toBe(8)
    expect(coi.paramDim).toBe(1)
    const nodes = coi.nodes
    expect(nodes).toHaveLength(64)
    expect(nodes[0]).toBe(0)
    expect(nodes[63]).toBe(1)
    const atNodes = coi.inverseSync(nodes)
    const exact = baselines.inverseSync(fam.at(nodes))
    expect(maxAbsDiff(atNodes.data, exact.data)).toBeLessThan(1e-12 * maxAbs(exact.data))
    // Measured: 1.5e-3 with 24 nodes, 2.0e-7 with 64.
    const coarse = midpointError(baselines.coiSync(fam, { nodes: 24 }))
    const fine = midpointError(coi)
    expect(fine).toBeLessThan(1e-5)
    expect(fine).toBeLessThan(coarse / 1000)
    const between = Float64Array.of(0.123, 0.5, 0.877)
    const X = await coi.inverse(between)
    expect(X).toMatchObject({ batch: 3, rows: 8, cols: 8 })
    expect(Array.from(coi.inverseSync(between).data)).toEqual(Array.from(X.data))
  })

  it('reports bad options and parameters', async () => {
    const coi = baselines.coiSync(fam, { nodes: 4 })
    expectThrowsCode(() => coi.inverseSync(Float64Array.of(1.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
    await expectRejectsCode(coi.inverse(Float64Array.of(-0.1)), OutOfDomainError, 'OUT_OF_DOMAIN')
    expect(() => coi.inverseSync([0.5] as unknown as Float64Array)).toThrow(TypeError)
    expectThrowsCode(() => baselines.coiSync(fam, { nodes: 1 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(baselines.coi(fam, { nodes: 5000 }), InvalidOptionError, 'INVALID_OPTION')
    expect(() => baselines.coiSync({} as Family)).toThrow(TypeError)
  })
})

describe('baselines.znn', () => {
  const fam = Family.synthetic({ n: 8, rank: 2, seed: 2 })
  const grid = Float64Array.from({ length: 41 }, (_, i) => i / 40)

  it('tracks A(p)⁻¹ along an ascending grid', async () => {
    const X = await baselines.znn(fam, grid, { gamma: 10, substeps: 4 })
    expect(X).toMatchObject({ batch: 41, rows: 8, cols: 8 })
    const A = fam.at(grid)
    // Exact at the start, close all along.
    expect(maxAbsDiff(matrixAt(X, 0), matrixAt(baselines.inverseSync(A), 0))).toBeLessThan(1e-12)
    expect(metrics.relErrInverse(A, X)).toBeLessThan(1e-6)
    expect(Array.from(baselines.znnSync(fam, grid, { gamma: 10, substeps: 4 }).data)).toEqual(Array.from(X.data))
  })

  it('reports unsorted grids and multi-parameter families', async () => {
    expectThrowsCode(() => baselines.znnSync(fam, Float64Array.of(0.5, 0.2)), InvalidInputError, 'INVALID_INPUT')
    const two = Family.spdFourier({ n: 4 })
    await expectRejectsCode(baselines.znn(two, Float64Array.of(0.1, 0.2)), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => baselines.znnSync(fam, grid, { substeps: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => baselines.znnSync(fam, Float64Array.of(0.5, 1.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })
})
