/**
 * The paper's error metrics, computed in Rust in f64.
 *
 * @module
 */
import { relErrInverse as nativeRelErrInverse } from './native.js'
import { callNative } from './errors.js'
import { type FloatArray, type MatrixBatch, checkMatrixBatch } from './matrix.js'

/**
 * `RelErr_inv = mean_p ‖A(p) Ĝ(p) − I‖²_F / ‖I‖²_F`, the paper's inversion error, averaged
 * over the batch.
 *
 * @param A - the matrices (`Float64Array`)
 * @param G - approximate inverses of the same shape (`Float32Array` or `Float64Array`)
 * @returns the mean relative residual
 * @throws TypeError/RangeError for malformed batches
 * @throws ShapeMismatchError if the shapes differ or the matrices are not square
 */
export function relErrInverse(A: MatrixBatch<Float64Array>, G: MatrixBatch<FloatArray>): number {
  const a = checkMatrixBatch(A, 'A') as MatrixBatch<Float64Array>
  const g = checkMatrixBatch(G, 'G', true)
  return callNative(() => nativeRelErrInverse(a.batch, a.rows, a.cols, a.data, g.batch, g.rows, g.cols, g.data))
}
