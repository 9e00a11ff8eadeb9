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
  /**
   * Return the symmetric positive definite `H(p) H(p)ᵀ` instead of `H(p)` (for `cholesky` and
   * `eigh`, as the paper does for Table 7's Cholesky case). Default false.
   */
  spd?: boolean
}

/**
 * Options of the paper's 2-D SPD family (Table 6), `A(p) = B(p) B(p)ᵀ + ε I` with `p ∈ [0, 1]²` and
 * `B(p)` (`n × rank`) a random Fourier series in `(p1, p2)`. Every field is optional; defaults live in Rust.
 */
export interface SpdFourierOptions {
  /** Matrix order `n`. Default 128. */
  n?: number
  /** Columns of `B(p)`. Default `n` (a square `B`, so `A(p)` is a generic SPD matrix). */
  rank?: number
  /**
   * Highest frequency per parameter: the basis is `1` and `cos`, `sin` of `2π(a p1 + b p2)` for
   * `|a|, |b| ≤ maxFreq`. Default 1 (9 basis functions).
   */
  maxFreq?: number
  /** The shift `ε > 0` of the `ε I` term, a lower bound on the eigenvalues. Default 1. */
  eps?: number
  /** Seed of the random coefficients. Default 0. */
  seed?: number
  /**
   * Standard deviation of the entries of `B(p)`. Default `3 / (√n + √rank)`, which keeps
   * `cond(A(p)) ≈ 1 + 9/ε` (about 10 with the default `ε`).
   */
  scale?: number
}

/**
 * Options of the paper's controlled-parametric-rank family (Appendix I), `H(p) = U(p) S(p) V(p)ᵀ`
 * with `p ∈ [0, 1]`, each factor a combination of `paramRank` Gaussian radial basis functions of `p`.
 * Every field is optional; defaults live in Rust.
 */
export interface ControlledRankOptions {
  /** Rows `m` of `H(p)`. Default 512. */
  rows?: number
  /** Columns `n` of `H(p)`. Default 512. */
  cols?: number
  /** Truncation rank `r`, the rank of every `H(p)`; at most `min(rows, cols)`. Default 100. */
  rank?: number
  /** Parametric rank `d`: the number of radial basis functions. Default 10. */
  paramRank?: number
  /** Decay of the singular-value envelope, `s_i(p) ∝ decay^i`. Default 0.95. */
  decay?: number
  /** Seed of the random coefficient tensors. Default 0. */
  seed?: number
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
const INTEGER_SPD_FOURIER = new Set(['n', 'rank', 'maxFreq', 'seed'])
const INTEGER_CONTROLLED_RANK = new Set(['rows', 'cols', 'rank', 'paramRank', 'seed'])

/**
 * Checks that every option of a built-in family is a finite number (a non-negative integer for the
 * names in `integers`) and returns the JSON the engine parses. Values and unknown names are the
 * engine's to judge.
 */
function familyJson(what: string, opts: object, integers: ReadonlySet<string>, booleans: ReadonlySet<string> = new Set()): string {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${what}: options must be an object`)
  for (const [key, v] of Object.entries(opts)) {
    if (v === undefined) continue
    if (booleans.has(key)) {
      if (typeof v !== 'boolean') throw new TypeError(`${what}: option ${key} must be a boolean, got ${typeof v}`)
      continue
    }
    if (typeof v !== 'number') throw new TypeError(`${what}: option ${key} must be a number, got ${typeof v}`)
    if (!Number.isFinite(v)) throw new RangeError(`${what}: option ${key} must be finite, got ${v}`)
    if (integers.has(key) && (!Number.isSafeInteger(v) || v < 0)) {
      throw new RangeError(`${what}: option ${key} must be a non-negative integer, got ${v}`)
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
    const json = familyJson('Family.synthetic', options, INTEGER_SYNTHETIC, new Set(['spd']))
    return new Family(callNative(() => NativeFamily.synthetic(json)))
  }

  /**
   * The paper's 2-D SPD family (Table 6): `A(p) = B(p) B(p)ᵀ + ε I`, `p = (p1, p2) ∈ [0, 1]²`, with
   * `B(p)` a random Fourier series in `p`. Every `A(p)` is symmetric with eigenvalues at least `ε`.
   *
   * @example
   * ```ts
   * const fam = Family.spdFourier({ n: 16, seed: 1 })
   * const A = fam.at(Float64Array.of(0.1, 0.2, 0.7, 0.4))   // two matrices, p = (0.1, 0.2) and (0.7, 0.4)
   * ```
   *
   * @param options - size, width of `B`, frequencies, shift, seed and scale; every field optional
   * @throws TypeError/RangeError for non-numeric or non-integer options
   * @throws InvalidOptionError for values the engine rejects (e.g. `eps <= 0`)
   */
  static spdFourier(options: SpdFourierOptions = {}): Family {
    const json = familyJson('Family.spdFourier', options, INTEGER_SPD_FOURIER)
    return new Family(callNative(() => NativeFamily.spdFourier(json)))
  }

  /**
   * The paper's controlled-parametric-rank family (Appendix I): `H(p) = U(p) S(p) V(p)ᵀ`, `p ∈ [0, 1]`,
   * of rank `rank` at every `p`, with `U`, `S`, `V` each spanning at most `paramRank` dimensions as
   * `p` varies.
   *
   * @param options - shape, truncation and parametric ranks, decay and seed; every field optional
   * @throws TypeError/RangeError for non-numeric or non-integer options
   * @throws InvalidOptionError for values the engine rejects (e.g. `rank > min(rows, cols)`)
   */
  static controlledRank(options: ControlledRankOptions = {}): Family {
    const json = familyJson('Family.controlledRank', options, INTEGER_CONTROLLED_RANK)
    return new Family(callNative(() => NativeFamily.controlledRank(json)))
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
