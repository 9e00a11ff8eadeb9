import { describe, expect, it } from 'vitest'
import { ShapeMismatchError, baselines, metrics, type MatrixBatch } from '../ts/index.js'
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
