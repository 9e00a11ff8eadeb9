import { describe, expect, it } from 'vitest'
import { InvalidInputError, ShapeMismatchError, SingularMatrixError, baselines, type MatrixBatch } from '../ts/index.js'
import { expectRejectsCode, expectThrowsCode, matmul, randomMatrices } from './helpers.js'

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
