/**
 * Parametric matrix families `A(p)`: the engine's built-in generators and the user's own
 * matrices sampled on a grid of parameters.
 *
 * @module
 */
import { NativeFamily } from './native.js'
import { awaitNative, callNative } from './errors.js'
import { type MatrixBatch, checkCount, checkMatrixBatch, checkParams } from './matrix.js'

/** The parameter box `P = [lo_1, hi_1] × … × [lo_k, hi_k]`. */
export interface Domain {
  /** Lower bound per parameter dimension. */
  readonly lo: readonly number[]
  /** Upper bound per parameter dimension. */
  readonly hi: readonly number[]
}

/**
 * Options of the paper's synthetic family (§3.1), `H(p) = A(p) B(p)ᵀ + ε I` with `p ∈ [0, 1]`.
 * Every field is optional; defaults live in Rust.
 */
export interface SyntheticOptions {
  /** Matrix order `n`. */
  n?: number
  /** Rank `r` of the `A(p) B(p)ᵀ` part. */
  rank?: number
  /** The shift `ε` of the `ε I` term. */
  eps?: number
  /** Seed of the random coefficients, phases and frequencies. */
  seed?: number
  /** Column-wise energy decay of the coefficient matrices. */
  decay?: number
  /** Overall scale of the low-rank part. */
  scale?: number
}

/** Options of {@link Family.fromSamples}. */
export interface SamplesOptions {
  /** Length `k` of one parameter vector. */
  paramDim: number
  /** The grid of parameters: `batch * paramDim` values. */
  params: Float64Array
  /** `A(p)` at every grid parameter, in the same order (`batch` equal to the grid size). */
  matrices: MatrixBatch<Float64Array>
}

const INTEGER_SYNTHETIC = new Set(['n', 'rank', 'seed'])

function syntheticJson(opts: SyntheticOptions): string {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('Family.synthetic: options must be an object')
  for (const [key, v] of Object.entries(opts)) {
    if (v === undefined) continue
    if (typeof v !== 'number') throw new TypeError(`Family.synthetic: option ${key} must be a number, got ${typeof v}`)
    if (!Number.isFinite(v)) throw new RangeError(`Family.synthetic: option ${key} must be finite, got ${v}`)
    if (INTEGER_SYNTHETIC.has(key) && (!Number.isSafeInteger(v) || v < 0)) {
      throw new RangeError(`Family.synthetic: option ${key} must be a non-negative integer, got ${v}`)
    }
  }
  return JSON.stringify(opts)
}

/**
 * A source of matrices `A(p)`, `p ∈ P ⊂ Rᵏ`. Knows its shape, parameter dimension and domain.
 *
 * @example
 * ```ts
 * const fam = Family.synthetic({ n: 64, rank: 8, seed: 3 })
 * const A = fam.at(Float64Array.of(0.1, 0.2))   // { batch: 2, rows: 64, cols: 64, data }
 * ```
 */
export class Family {
  /** The engine's family. @internal */
  readonly native: NativeFamily
  #domain?: Domain

  private constructor(native: NativeFamily) {
    this.native = native
  }

  /**
   * The paper's synthetic family (§3.1): `H(p) = A(p) B(p)ᵀ + ε I`, `p ∈ [0, 1]`.
   *
   * @param options - size, rank, shift and seed; every field optional
   * @throws TypeError/RangeError for non-numeric or non-integer options
   * @throws InvalidOptionError for values the engine rejects (e.g. `rank > n`)
   */
  static synthetic(options: SyntheticOptions = {}): Family {
    const json = syntheticJson(options)
    return new Family(callNative(() => NativeFamily.synthetic(json)))
  }

  /**
   * A family from the user's own matrices on a grid of parameters. Training draws its samples
   * and collocation candidates from the grid; the domain is the grid's bounding box.
   *
   * @param options - `paramDim`, the grid `params` and the `matrices` at the grid
   * @throws TypeError/RangeError for malformed arguments
   * @throws ShapeMismatchError if the matrices are not square or their count differs from the grid
   * @throws InvalidInputError for NaN/Inf matrix entries
   */
  static fromSamples(options: SamplesOptions): Family {
    if (typeof options !== 'object' || options === null) throw new TypeError('Family.fromSamples: options must be an object')
    const paramDim = checkCount(options.paramDim, 'paramDim', 1)
    checkParams(options.params, paramDim, 'params')
    const m = checkMatrixBatch(options.matrices, 'matrices') as MatrixBatch<Float64Array>
    return new Family(
      callNative(() => NativeFamily.fromSamples(paramDim, options.params, m.batch, m.rows, m.cols, m.data)),
    )
  }

  /** Rows of each matrix. */
  get rows(): number {
    return this.native.rows
  }

  /** Columns of each matrix. */
  get cols(): number {
    return this.native.cols
  }

  /** Length `k` of one parameter vector. */
  get paramDim(): number {
    return this.native.paramDim
  }

  /** The parameter box. */
  get domain(): Domain {
    this.#domain ??= Object.freeze(callNative(() => this.native.domain()))
    return this.#domain
  }

  /**
   * A JSON-like description of the family (kind, shape, settings).
   */
  describe(): Record<string, unknown> {
    return JSON.parse(callNative(() => this.native.describe())) as Record<string, unknown>
  }

  /**
   * `A(p)` for a batch of parameters, computed on the calling thread.
   *
   * @param params - `batch * paramDim` finite values
   * @returns `{ batch, rows, cols, data: Float64Array }`
   * @throws TypeError/RangeError for a malformed `params`
   * @throws OutOfDomainError if a parameter lies outside {@link Family.domain}
   */
  at(params: Float64Array): MatrixBatch<Float64Array> {
    checkParams(params, this.paramDim)
    return callNative(() => this.native.at(params))
  }

  /**
   * Like {@link Family.at}, computed off the JavaScript thread. `params` is copied first, so it
   * may be changed as soon as this returns.
   */
  async atAsync(params: Float64Array): Promise<MatrixBatch<Float64Array>> {
    checkParams(params, this.paramDim)
    return awaitNative(() => this.native.atAsync(params))
  }
}
