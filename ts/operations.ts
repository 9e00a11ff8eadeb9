/**
 * The operation vocabulary: the operations a model can learn, their result components and the
 * prediction types built from them (the same names in Rust, TS, the CLI and files).
 *
 * @module
 */
import type { ComplexMatrixBatch, FloatArray, MatrixBatch } from './matrix.js'

/** Operations a model can learn. */
export const OPERATIONS = ['inverse', 'solve', 'svd', 'qr', 'cholesky', 'eigh', 'expm'] as const

/** The name of an operation. */
export type Operation = (typeof OPERATIONS)[number]

/** Result component names per operation (the same in Rust, TS, the CLI and files). */
export interface ComponentNames {
  /** `A(p)⁻¹`. */
  inverse: 'inverse'
  /** `x(p) = A(p)⁻¹ b`. */
  solve: 'x'
  /** `A(p) = U diag(S) Vᵀ`. */
  svd: 'U' | 'S' | 'V'
  /** `A(p) = Q R`. */
  qr: 'Q' | 'R'
  /** `A(p) = L Lᵀ`. */
  cholesky: 'L'
  /** `A(p) = V diag(values) Vᵀ`, `V` = `vectors`. */
  eigh: 'values' | 'vectors'
  /** `exp(A(p))`. */
  expm: 'expm'
}

/**
 * The result components of an operation, one {@link MatrixBatch} each, named as in
 * {@link ComponentNames}: `{ inverse }`, `{ x }` (batch, n, 1), `{ U, S, V }` (U (batch, m, r), S
 * (batch, r, 1), V (batch, n, r)), `{ Q, R }`, `{ L }`, `{ values, vectors }` (values (batch, n, 1),
 * eigenvectors as the columns of `vectors`) or `{ expm }`. Exact results order `S` descending and
 * `values` ascending; a model follows each singular value/eigenvalue continuously along `p` (the
 * training data are aligned through crossings), so after two values cross its order can differ.
 */
export type Components<Op extends Operation, T extends FloatArray = FloatArray> = {
  [K in ComponentNames[Op]]: MatrixBatch<T>
}

/**
 * A prediction: one {@link MatrixBatch} per result component, e.g. `{ inverse }` for
 * `'inverse'` or `{ U, S, V }` for `'svd'` (see {@link Components} for the shapes). Data is in the
 * model's dtype (`Float32Array` for the default f32 models).
 */
export type Prediction<Op extends Operation = Operation> = Components<Op, FloatArray>

/** The operations a model can learn on a complex family. */
export type ComplexOperation = 'inverse' | 'svd'

/**
 * The kind of each result component of a complex model: `inverse` complex (batch, n, n); `U`
 * (batch, m, r) and `V` (batch, n, r) complex and `S` (batch, r, 1) real, `A(p) ≈ U diag(S) Vᴴ`.
 */
export interface ComplexComponentKinds<T extends FloatArray = FloatArray> {
  /** `A(p)⁻¹`. */
  inverse: ComplexMatrixBatch<T>
  /** Left singular vectors. */
  U: ComplexMatrixBatch<T>
  /** Singular values (real). */
  S: MatrixBatch<T>
  /** Right singular vectors. */
  V: ComplexMatrixBatch<T>
}

/**
 * A complex model's prediction, in the model's dtype: `{ inverse }` for `'inverse'`, `{ U, S, V }`
 * for `'svd'` (see {@link ComplexComponentKinds}).
 */
export type ComplexPrediction<Op extends Operation = ComplexOperation> = {
  [K in ComponentNames[Op & ComplexOperation]]: ComplexComponentKinds<FloatArray>[K]
}

/** Whether a model's matrices are real or complex (the second type parameter of {@link NeuMatC}). */
export type Field = 'real' | 'complex'

/** The prediction type of a model of `Op` over the field `F`. */
export type PredictionOf<Op extends Operation, F extends Field> = F extends 'complex' ? ComplexPrediction<Op> : Prediction<Op>

/** What a model computes (`OpSpec` in Rust): the operation, the input shape and its settings. */
export interface OpSpec {
  /** The operation. */
  op: Operation
  /** Rows `m` of `A(p)`. */
  rows: number
  /** Columns `n` of `A(p)`. */
  cols: number
  /** Rank `r` of the SVD (`min(m, n)` for a thin SVD); 0 for the other operations. */
  rank: number
  /** The fixed right-hand side `b` of `'solve'` (absent for the other operations). */
  rhs?: number[]
  /**
   * Whether the matrices are complex. `rows` and `cols` are then those of the real embedding
   * `[[Re, −Im], [Im, Re]]` the engine works on (twice the complex shape), `rank` the complex SVD's.
   */
  complex?: boolean
}

/** Throws a `TypeError`/`RangeError` unless `op` names an operation. @internal */
export function checkOperation(op: unknown): asserts op is Operation {
  if (typeof op !== 'string') throw new TypeError(`operation must be a string, got ${typeof op}`)
  if (!(OPERATIONS as readonly string[]).includes(op)) {
    throw new RangeError(`unknown operation '${op}'; expected one of ${OPERATIONS.join(', ')}`)
  }
}
