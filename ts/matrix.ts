/**
 * Batches of matrices and batches of parameters, and the argument checks every entry point
 * runs on them before calling into Rust.
 *
 * @module
 */

/** Element types a matrix batch can hold. */
export type FloatArray = Float32Array | Float64Array

/**
 * A batch of `batch` dense `rows × cols` matrices in one typed array, row-major within a
 * matrix and batch-major across matrices: entry `(b, i, j)` is `data[(b * rows + i) * cols + j]`.
 * Exact computations return `Float64Array`; `predict` returns the model's dtype.
 */
export interface MatrixBatch<T extends FloatArray = Float64Array> {
  /** Number of matrices. */
  readonly batch: number
  /** Rows of each matrix. */
  readonly rows: number
  /** Columns of each matrix. */
  readonly cols: number
  /** `batch * rows * cols` values. */
  readonly data: T
}

/**
 * Builds a {@link MatrixBatch} from nested arrays: one matrix (`number[][]`) or a list of
 * matrices (`number[][][]`). This is the only place `number[][]` is accepted; it is converted
 * once into a `Float64Array`.
 *
 * @param matrices - one matrix or an array of equally shaped matrices
 * @returns the batch (`batch` is 1 for a single matrix)
 * @throws TypeError if the input is not nested arrays of numbers
 * @throws RangeError if rows or matrices have different lengths
 */
export function matrixBatch(matrices: readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[]): MatrixBatch {
  if (!Array.isArray(matrices) || matrices.length === 0) throw new TypeError('matrixBatch: expected a non-empty array of matrices')
  const list = (Array.isArray(matrices[0]) && Array.isArray((matrices[0] as unknown[])[0])
    ? matrices
    : [matrices]) as readonly (readonly (readonly number[])[])[]
  const rows = list[0].length
  const cols = rows > 0 && Array.isArray(list[0][0]) ? list[0][0].length : 0
  const data = new Float64Array(list.length * rows * cols)
  let k = 0
  for (const m of list) {
    if (!Array.isArray(m) || m.length !== rows) throw new RangeError(`matrixBatch: every matrix must have ${rows} rows`)
    for (const row of m) {
      if (!Array.isArray(row) || row.length !== cols) throw new RangeError(`matrixBatch: every row must have ${cols} columns`)
      for (const v of row) {
        if (typeof v !== 'number') throw new TypeError('matrixBatch: entries must be numbers')
        data[k++] = v
      }
    }
  }
  return { batch: list.length, rows, cols, data }
}

/**
 * The `i`-th matrix of a batch as a view (no copy).
 *
 * @param m - the batch
 * @param i - index in `[0, m.batch)`
 */
export function matrixAt<T extends FloatArray>(m: MatrixBatch<T>, i: number): T {
  if (!Number.isInteger(i) || i < 0 || i >= m.batch) throw new RangeError(`matrixAt: index ${i} is outside [0, ${m.batch})`)
  const size = m.rows * m.cols
  return m.data.subarray(i * size, (i + 1) * size) as T
}

/** Throws a TypeError/RangeError unless `v` is a non-negative safe integer. @internal */
export function checkCount(v: unknown, name: string, min = 0): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`)
  if (!Number.isSafeInteger(v) || v < min || v > 0xffff_ffff) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`)
  return v
}

/**
 * Checks that `m` is a well-formed {@link MatrixBatch}: integer sizes, a typed array of an
 * allowed type, and `data.length === batch * rows * cols`. Shape *compatibility* (square,
 * equal shapes) is checked by the engine and reported as a `ShapeMismatchError`.
 * @internal
 */
export function checkMatrixBatch(m: unknown, name: string, allowF32 = false): MatrixBatch<FloatArray> {
  if (typeof m !== 'object' || m === null) throw new TypeError(`${name} must be a MatrixBatch { batch, rows, cols, data }`)
  const { batch, rows, cols, data } = m as Record<string, unknown>
  checkCount(batch, `${name}.batch`, 1)
  checkCount(rows, `${name}.rows`, 1)
  checkCount(cols, `${name}.cols`, 1)
  const okType = data instanceof Float64Array || (allowF32 && data instanceof Float32Array)
  if (!okType) {
    throw new TypeError(`${name}.data must be a ${allowF32 ? 'Float32Array or Float64Array' : 'Float64Array'}`)
  }
  const want = (batch as number) * (rows as number) * (cols as number)
  if ((data as FloatArray).length !== want) {
    throw new RangeError(`${name}.data has ${(data as FloatArray).length} values, expected batch*rows*cols = ${want}`)
  }
  return m as MatrixBatch<FloatArray>
}

/**
 * Checks a batch of parameters: a `Float64Array` whose length is a positive multiple of
 * `paramDim`, with only finite values.
 * @internal
 * @returns the batch size
 */
export function checkParams(params: unknown, paramDim: number, name = 'params'): number {
  if (!(params instanceof Float64Array)) {
    throw new TypeError(`${name} must be a Float64Array of length batch * paramDim (paramDim = ${paramDim})`)
  }
  if (params.length === 0 || params.length % paramDim !== 0) {
    throw new RangeError(`${name} has length ${params.length}, which is not a positive multiple of paramDim = ${paramDim}`)
  }
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) throw new RangeError(`${name}[${i}] is ${params[i]}; parameters must be finite`)
  }
  return params.length / paramDim
}

/**
 * A vector argument (a right-hand side) as a `Float64Array`: a `Float64Array` is used as is, an
 * array of numbers is converted once. Every value must be finite.
 * @internal
 */
export function toFloat64(v: unknown, name: string): Float64Array {
  let out: Float64Array
  if (v instanceof Float64Array) out = v
  else if (Array.isArray(v)) {
    out = new Float64Array(v.length)
    v.forEach((x: unknown, i) => {
      if (typeof x !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${typeof x}`)
      out[i] = x
    })
  } else throw new TypeError(`${name} must be a Float64Array or an array of numbers`)
  if (out.length === 0) throw new RangeError(`${name} must not be empty`)
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new RangeError(`${name}[${i}] is ${out[i]}; values must be finite`)
  }
  return out
}

/**
 * A batch of `batch` complex `rows × cols` matrices as two typed arrays, the real parts in `re` and
 * the imaginary parts in `im`, each laid out like {@link MatrixBatch.data}: entry `(b, i, j)` is
 * `re[k] + i·im[k]` with `k = (b * rows + i) * cols + j`. Exact computations return `Float64Array`
 * planes; a complex model's `predict` returns its dtype.
 *
 * @example
 * ```ts
 * const A: ComplexMatrixBatch = { batch: 1, rows: 2, cols: 2, re: Float64Array.of(1, 0, 0, 1), im: Float64Array.of(0, 1, -1, 0) }
 * const G = await baselines.inverse(A)   // a ComplexMatrixBatch
 * ```
 */
export interface ComplexMatrixBatch<T extends FloatArray = Float64Array> {
  /** Number of matrices. */
  readonly batch: number
  /** Rows of each matrix. */
  readonly rows: number
  /** Columns of each matrix. */
  readonly cols: number
  /** Real parts, `batch * rows * cols` values. */
  readonly re: T
  /** Imaginary parts, `batch * rows * cols` values. */
  readonly im: T
}

/**
 * A batch of complex matrices in one interleaved array `re, im, re, im, …` (the memory layout of
 * C's `double complex`, NumPy's `complex128`): `data[2k]` and `data[2k + 1]` are the real and
 * imaginary parts of entry `k = (b * rows + i) * cols + j`. Accepted as input where noted.
 */
export interface InterleavedComplexMatrixBatch {
  /** Number of matrices. */
  readonly batch: number
  /** Rows of each matrix. */
  readonly rows: number
  /** Columns of each matrix. */
  readonly cols: number
  /** `2 * batch * rows * cols` values. */
  readonly data: Float64Array
  /** Marks the interleaved layout. */
  readonly layout: 'interleaved'
}

/**
 * Whether `m` has the form of a {@link ComplexMatrixBatch} (an object with typed-array `re` and
 * `im` planes). Only the form is checked, not the lengths.
 *
 * @param m - any value
 */
export function isComplexBatch(m: unknown): m is ComplexMatrixBatch<FloatArray> {
  if (typeof m !== 'object' || m === null) return false
  const { re, im } = m as Record<string, unknown>
  return (re instanceof Float64Array || re instanceof Float32Array) && (im instanceof Float64Array || im instanceof Float32Array)
}

/**
 * Checks that `m` is a well-formed {@link ComplexMatrixBatch}: integer sizes, both planes typed
 * arrays of an allowed type (the same type), each of length `batch * rows * cols`.
 * @internal
 */
export function checkComplexBatch(m: unknown, name: string, allowF32 = false): ComplexMatrixBatch<FloatArray> {
  if (typeof m !== 'object' || m === null) throw new TypeError(`${name} must be a ComplexMatrixBatch { batch, rows, cols, re, im }`)
  const { batch, rows, cols, re, im } = m as Record<string, unknown>
  checkCount(batch, `${name}.batch`, 1)
  checkCount(rows, `${name}.rows`, 1)
  checkCount(cols, `${name}.cols`, 1)
  const allowed = allowF32 ? 'Float32Array or Float64Array' : 'Float64Array'
  for (const [plane, v] of [['re', re], ['im', im]] as const) {
    if (!(v instanceof Float64Array || (allowF32 && v instanceof Float32Array))) throw new TypeError(`${name}.${plane} must be a ${allowed}`)
  }
  if ((re as FloatArray).constructor !== (im as FloatArray).constructor) {
    throw new TypeError(`${name}.re and ${name}.im must have the same element type`)
  }
  const want = (batch as number) * (rows as number) * (cols as number)
  for (const [plane, v] of [['re', re], ['im', im]] as const) {
    if ((v as FloatArray).length !== want) {
      throw new RangeError(`${name}.${plane} has ${(v as FloatArray).length} values, expected batch*rows*cols = ${want}`)
    }
  }
  return m as ComplexMatrixBatch<FloatArray>
}

/**
 * Checks an {@link InterleavedComplexMatrixBatch}: integer sizes and a `Float64Array` of
 * `2 * batch * rows * cols` values.
 * @internal
 */
export function checkInterleavedBatch(m: unknown, name: string): InterleavedComplexMatrixBatch {
  if (typeof m !== 'object' || m === null) throw new TypeError(`${name} must be { batch, rows, cols, data, layout: 'interleaved' }`)
  const { batch, rows, cols, data, layout } = m as Record<string, unknown>
  if (layout !== 'interleaved') throw new TypeError(`${name}.layout must be 'interleaved', got ${String(layout)}`)
  checkCount(batch, `${name}.batch`, 1)
  checkCount(rows, `${name}.rows`, 1)
  checkCount(cols, `${name}.cols`, 1)
  if (!(data instanceof Float64Array)) throw new TypeError(`${name}.data must be a Float64Array of interleaved re, im values`)
  const want = 2 * (batch as number) * (rows as number) * (cols as number)
  if (data.length !== want) throw new RangeError(`${name}.data has ${data.length} values, expected 2*batch*rows*cols = ${want}`)
  return m as InterleavedComplexMatrixBatch
}
