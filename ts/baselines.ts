/**
 * Exact pointwise baselines: the reference each learned model is measured against. Batched,
 * computed in Rust at LAPACK speed, results in `Float64Array`.
 *
 * @module
 */
import { baselineInverse, baselineInverseSync } from './native.js'
import { awaitNative, callNative } from './errors.js'
import { type MatrixBatch, checkMatrixBatch } from './matrix.js'

/**
 * Exact inverse (LU with partial pivoting) of every matrix in the batch, off the JavaScript
 * thread. `A.data` is copied first.
 *
 * @param A - a batch of square matrices
 * @returns the inverses, same shape, `Float64Array`
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for non-square matrices
 * @throws SingularMatrixError for a singular matrix
 */
export async function inverse(A: MatrixBatch<Float64Array>): Promise<MatrixBatch<Float64Array>> {
  const a = checkMatrixBatch(A, 'A') as MatrixBatch<Float64Array>
  return awaitNative(() => baselineInverse(a.batch, a.rows, a.cols, a.data))
}

/** Like {@link inverse}, on the calling thread. */
export function inverseSync(A: MatrixBatch<Float64Array>): MatrixBatch<Float64Array> {
  const a = checkMatrixBatch(A, 'A') as MatrixBatch<Float64Array>
  return callNative(() => baselineInverseSync(a.batch, a.rows, a.cols, a.data))
}
