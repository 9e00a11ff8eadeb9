/**
 * The paper's error metrics, computed in Rust in f64 whatever the precision of the prediction
 * (`Float32Array` or `Float64Array`). Each `relErr…` is a mean over the batch of `A(p)`:
 *
 * | operation | metric |
 * | --- | --- |
 * | inverse | `‖A Ĝ − I‖²_F / ‖I‖²_F` |
 * | solve | `‖A x̂ − b‖₂ / ‖b‖₂` |
 * | svd | `‖Û diag(Ŝ) V̂ᵀ − A‖²_F / ‖A‖²_F` |
 * | qr | `‖Q̂ R̂ − A‖²_F / ‖A‖²_F` |
 * | cholesky | `‖L̂ L̂ᵀ − A‖²_F / ‖A‖²_F` |
 * | eigh | `‖V̂ diag(λ̂) V̂ᵀ − A‖²_F / ‖A‖²_F` |
 * | expm | `‖Ĝ − e^A‖²_F / ‖e^A‖²_F` |
 *
 * {@link relErrInverse} and {@link relErrSvd} also take complex batches ({@link ComplexMatrixBatch}),
 * computed in complex arithmetic (`Vᴴ` for `Vᵀ`).
 *
 * They are the numbers a model's `report.heldOutRelErr` holds. The factorisation metrics measure
 * reconstruction only; {@link orthogonalityDefect} measures the orthonormal factors.
 *
 * @module
 */
import {
  complexRelErrInverse,
  complexRelErrSvd,
  orthogonalityDefect as nativeOrthogonalityDefect,
  relErrInverse as nativeRelErrInverse,
  relErrOp,
  type NativeComplexView,
  type NativeMatrixView,
} from './backend.js'
import { checkOptionsObject } from './args.js'
import { callNative } from './errors.js'
import {
  type ComplexMatrixBatch,
  type FloatArray,
  type MatrixBatch,
  checkComplexBatch,
  checkMatrixBatch,
  isComplexBatch,
  toFloat64,
} from './matrix.js'
import { type Components, type ComponentNames, type Operation, OPERATIONS } from './operations.js'

/** Component order per operation, as the engine reads them. */
const ORDER: { [Op in Operation]: readonly ComponentNames[Op][] } = {
  inverse: ['inverse'],
  solve: ['x'],
  svd: ['U', 'S', 'V'],
  qr: ['Q', 'R'],
  cholesky: ['L'],
  eigh: ['values', 'vectors'],
  expm: ['expm'],
}

/** Options of {@link relErr}. */
export interface RelErrOptions {
  /** The right-hand side of `'solve'`: `n` values shared by the batch, or `batch * n`. Required for `'solve'`. */
  rhs?: Float64Array | readonly number[]
  /** The exact exponentials for `'expm'`, shaped like `A` (computed when absent). */
  exact?: MatrixBatch<Float64Array>
}

function checkA(A: MatrixBatch<Float64Array>): MatrixBatch<Float64Array> {
  return checkMatrixBatch(A, 'A') as MatrixBatch<Float64Array>
}

/** The components of `result` in the engine's order, type-checked. */
function views<Op extends Operation>(op: Op, result: Components<Op>): NativeMatrixView[] {
  if (typeof result !== 'object' || result === null) {
    throw new TypeError(`the ${op} result must be an object { ${ORDER[op].join(', ')} }`)
  }
  return ORDER[op].map((name) => {
    const m = checkMatrixBatch((result as Record<string, unknown>)[name], name, true)
    return { batch: m.batch, rows: m.rows, cols: m.cols, data: m.data }
  })
}

/**
 * The paper-style relative error of any operation's result, the mean over the batch (see the
 * table above). The operation-specific functions ({@link relErrSvd}, …) call this.
 *
 * @example
 * ```ts
 * const out = await model.predict(P)
 * metrics.relErr(model.operation, fam.at(P), out, { rhs: model.spec.rhs })
 * ```
 *
 * @param op - the operation
 * @param A - the matrices (`Float64Array`)
 * @param result - the result components, e.g. `{ U, S, V }` (`Float32Array` or `Float64Array`)
 * @param options - `rhs` for `'solve'`, `exact` for `'expm'`
 * @returns the mean relative error
 * @throws TypeError/RangeError for malformed arguments
 * @throws ShapeMismatchError if a component's shape does not fit `A` and the operation
 * @throws InvalidOptionError for an SVD rank outside `1..min(m, n)`, `'solve'` without `rhs`
 * @throws InvalidInputError if the result holds NaN or Inf
 */
export function relErr<Op extends Operation>(op: Op, A: MatrixBatch<Float64Array>, result: Components<Op>, options: RelErrOptions = {}): number {
  if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
    throw new RangeError(`unknown operation '${String(op)}'; expected one of ${OPERATIONS.join(', ')}`)
  }
  if (isComplexBatch(A)) {
    throw new TypeError(`relErr: complex matrices are measured by relErrInverse and relErrSvd`)
  }
  const a = checkA(A)
  const parts = views(op, result)
  checkOptionsObject(options, 'relErr')
  const rhs = options.rhs === undefined ? undefined : toFloat64(options.rhs, 'rhs')
  const exact = options.exact === undefined ? undefined : (checkMatrixBatch(options.exact, 'exact') as MatrixBatch<Float64Array>)
  if (exact && (exact.batch !== a.batch || exact.rows !== a.rows || exact.cols !== a.cols)) {
    throw new RangeError(`exact must have the shape of A, (${a.batch}, ${a.rows}, ${a.cols})`)
  }
  return callNative(() => relErrOp(op, a.batch, a.rows, a.cols, a.data, parts, rhs, exact?.data))
}

function complexView(m: unknown, name: string, allowF32: boolean): NativeComplexView {
  const c = checkComplexBatch(m, name, allowF32)
  return { batch: c.batch, rows: c.rows, cols: c.cols, re: c.re, im: c.im }
}

/**
 * `RelErr_inv = mean_p ‖A(p) Ĝ(p) − I‖²_F / ‖I‖²_F`, the paper's inversion error, averaged
 * over the batch; in complex arithmetic when `A` and `G` are {@link ComplexMatrixBatch}es.
 *
 * @param A - the matrices (`Float64Array`, or complex planes)
 * @param G - approximate inverses of the same shape and kind (`Float32Array` or `Float64Array`)
 * @returns the mean relative residual
 * @throws TypeError/RangeError for malformed batches, or one real and one complex batch
 * @throws ShapeMismatchError if the shapes differ or the matrices are not square
 */
export function relErrInverse(A: ComplexMatrixBatch<Float64Array>, G: ComplexMatrixBatch<FloatArray>): number
export function relErrInverse(A: MatrixBatch<Float64Array>, G: MatrixBatch<FloatArray>): number
export function relErrInverse(
  A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>,
  G: MatrixBatch<FloatArray> | ComplexMatrixBatch<FloatArray>,
): number {
  const complexA = isComplexBatch(A)
  if (complexA !== isComplexBatch(G)) {
    throw new TypeError(`relErrInverse: A is ${complexA ? 'complex' : 'real'} but G is ${complexA ? 'real' : 'complex'}; pass two real or two complex batches`)
  }
  if (complexA) {
    const a = complexView(A, 'A', false)
    const g = complexView(G, 'G', true)
    return callNative(() => complexRelErrInverse(a, g))
  }
  const a = checkA(A as MatrixBatch<Float64Array>)
  const g = checkMatrixBatch(G, 'G', true)
  return callNative(() => nativeRelErrInverse(a.batch, a.rows, a.cols, a.data, g.batch, g.rows, g.cols, g.data))
}

/**
 * A complex SVD result: `U` (batch, m, r) and `V` (batch, n, r) complex, `S` (batch, r, 1) real;
 * `A = U diag(S) Vᴴ`. What a complex `'svd'` model predicts and `baselines.svd` returns for complex `A`.
 */
export interface ComplexSvdComponents<T extends FloatArray = FloatArray> {
  /** Left singular vectors. */
  U: ComplexMatrixBatch<T>
  /** Singular values. */
  S: MatrixBatch<T>
  /** Right singular vectors. */
  V: ComplexMatrixBatch<T>
}

/**
 * `RelErr_svd = mean_p ‖Û diag(Ŝ) V̂ᵀ − A‖²_F / ‖A‖²_F`, the paper's SVD error. The rank is `S.rows`.
 * For a complex `A` (with complex `U`, `V` and real `S`) in complex arithmetic, with `V̂ᴴ`.
 *
 * @param A - the `m × n` matrices
 * @param result - `U` (batch, m, r), `S` (batch, r, 1), `V` (batch, n, r), e.g. a prediction or `baselines.svd(A)`
 * @returns the mean relative reconstruction error
 * @throws TypeError for one real and one complex argument
 * @throws ShapeMismatchError / InvalidOptionError / InvalidInputError as {@link relErr}
 */
export function relErrSvd(A: ComplexMatrixBatch<Float64Array>, result: ComplexSvdComponents): number
export function relErrSvd(A: MatrixBatch<Float64Array>, result: Components<'svd'>): number
export function relErrSvd(A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>, result: Components<'svd'> | ComplexSvdComponents): number {
  const complexA = isComplexBatch(A)
  if (typeof result !== 'object' || result === null) throw new TypeError('the svd result must be an object { U, S, V }')
  const { U, S, V } = result as Record<string, unknown>
  if (complexA !== isComplexBatch(U) || complexA !== isComplexBatch(V)) {
    throw new TypeError(`relErrSvd: A is ${complexA ? 'complex' : 'real'}, so U and V must be ${complexA ? 'complex' : 'real'} too`)
  }
  if (!complexA) return relErr('svd', A as MatrixBatch<Float64Array>, result as Components<'svd'>)
  if (isComplexBatch(S)) throw new TypeError('relErrSvd: S must be real (a MatrixBatch), also for a complex SVD')
  const a = complexView(A, 'A', false)
  const u = complexView(U, 'U', true)
  const v = complexView(V, 'V', true)
  const s = checkMatrixBatch(S, 'S', true)
  return callNative(() => complexRelErrSvd(a, u, s.data, v))
}

/**
 * `mean_p ‖Q̂ R̂ − A‖²_F / ‖A‖²_F`.
 *
 * @param A - the `m × n` matrices (`m ≥ n`)
 * @param result - `Q` (batch, m, n), `R` (batch, n, n)
 * @returns the mean relative reconstruction error
 * @throws ShapeMismatchError / InvalidInputError as {@link relErr}
 */
export function relErrQr(A: MatrixBatch<Float64Array>, result: Components<'qr'>): number {
  return relErr('qr', A, result)
}

/**
 * `mean_p ‖L̂ L̂ᵀ − A‖²_F / ‖A‖²_F`.
 *
 * @param A - the `n × n` matrices
 * @param result - `L` (batch, n, n)
 * @returns the mean relative reconstruction error
 * @throws ShapeMismatchError / InvalidInputError as {@link relErr}
 */
export function relErrCholesky(A: MatrixBatch<Float64Array>, result: Components<'cholesky'>): number {
  return relErr('cholesky', A, result)
}

/**
 * `mean_p ‖V̂ diag(λ̂) V̂ᵀ − A‖²_F / ‖A‖²_F`.
 *
 * @param A - the symmetric `n × n` matrices
 * @param result - `values` (batch, n, 1), `vectors` (batch, n, n), eigenvectors in columns
 * @returns the mean relative reconstruction error
 * @throws ShapeMismatchError / InvalidInputError as {@link relErr}
 */
export function relErrEigh(A: MatrixBatch<Float64Array>, result: Components<'eigh'>): number {
  return relErr('eigh', A, result)
}

/**
 * `mean_p ‖Ĝ − e^A‖²_F / ‖e^A‖²_F`, against the exact exponential (computed in Rust unless given).
 *
 * @param A - the `n × n` matrices
 * @param result - `expm` (batch, n, n)
 * @param exact - the exact `exp(A)`, shaped like `A`, if already at hand (e.g. from `baselines.expm(A)`)
 * @returns the mean relative error
 * @throws ShapeMismatchError / InvalidInputError as {@link relErr}
 */
export function relErrExpm(A: MatrixBatch<Float64Array>, result: Components<'expm'>, exact?: MatrixBatch<Float64Array>): number {
  return relErr('expm', A, result, { exact })
}

/**
 * `mean_p ‖A x̂ − b‖₂ / ‖b‖₂` (the paper's App. H metric; note: not squared).
 *
 * @param A - the `n × n` matrices
 * @param b - the right-hand side: `n` values shared by the batch, or `batch * n`
 * @param result - `x` (batch, n, 1)
 * @returns the mean relative residual
 * @throws TypeError/RangeError for a malformed `b`
 * @throws ShapeMismatchError / InvalidOptionError / InvalidInputError as {@link relErr}
 */
export function relErrSolve(A: MatrixBatch<Float64Array>, b: Float64Array | readonly number[], result: Components<'solve'>): number {
  return relErr('solve', A, result, { rhs: toFloat64(b, 'b') })
}

/**
 * The largest orthogonality defect `‖XᵀX − I‖_F / √r` over the orthonormal factors (`U` and `V`
 * of an SVD, `Q` of a QR, `vectors` of an eigendecomposition) and over the batch: what
 * `report.heldOutOrthogonality` holds. The reconstruction metrics do not see it.
 *
 * @param op - `'svd'`, `'qr'` or `'eigh'`
 * @param result - the result components (the shapes come from them)
 * @returns the largest defect (0 for exactly orthonormal factors)
 * @throws TypeError/RangeError for malformed arguments
 * @throws InvalidOptionError for an operation without orthonormal factors
 * @throws ShapeMismatchError for inconsistent components
 * @throws InvalidInputError if the result holds NaN or Inf
 */
export function orthogonalityDefect<Op extends 'svd' | 'qr' | 'eigh'>(op: Op, result: Components<Op>): number {
  if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
    throw new RangeError(`unknown operation '${String(op)}'; expected 'svd', 'qr' or 'eigh'`)
  }
  const parts = views(op, result)
  return callNative(() => nativeOrthogonalityDefect(op, parts))
}
