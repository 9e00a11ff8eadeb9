/**
 * Parametric matrix families `A(p)`: the engine's built-in generators and the user's own
 * matrices sampled on a grid of parameters.
 *
 * @module
 */
import { NativeFamily } from './backend.js'
import { checkOptionsObject, optionsJson } from './args.js'
import { awaitNative, callNative } from './errors.js'
import {
  type ComplexMatrixBatch,
  type InterleavedComplexMatrixBatch,
  type MatrixBatch,
  checkComplexBatch,
  checkCount,
  checkInterleavedBatch,
  checkMatrixBatch,
  checkParams,
} from './matrix.js'

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

/** Options of {@link Family.fromSamples} for complex matrices. */
export interface ComplexSamplesOptions {
  /** Length `k` of one parameter vector. */
  paramDim: number
  /** The grid of parameters: `batch * paramDim` values. */
  params: Float64Array
  /**
   * Complex `A(p)` at every grid parameter, in the same order: as two planes `{ re, im }`
   * (`Float64Array`s) or interleaved `{ data, layout: 'interleaved' }`.
   */
  matrices: ComplexMatrixBatch<Float64Array> | InterleavedComplexMatrixBatch
}

/** An antenna panel of {@link CdlOptions}: `rows × cols` isotropic elements, uniformly spaced. */
export interface CdlArrayOptions {
  /** Element rows (vertical). Default 1. */
  rows?: number
  /** Element columns (horizontal). Default 8. */
  cols?: number
  /** Element spacing in wavelengths. Default 0.5. */
  spacing?: number
}

/**
 * Options of {@link Family.cdl}: a TR 38.901 clustered-delay-line (CDL) MIMO channel realisation
 * over a band. Every field is optional; defaults live in Rust.
 */
export interface CdlOptions {
  /** CDL model: `'A'`, `'B'`, `'C'` (NLOS), `'D'`, `'E'` (LOS), TR 38.901 Tables 7.7.1-1 … 7.7.1-5. Default `'A'`. */
  profile?: 'A' | 'B' | 'C' | 'D' | 'E'
  /** rms delay spread in seconds (≥ 0; 0 is a frequency-flat channel). Default 100e-9. */
  delaySpread?: number
  /** Carrier frequency `f_c` in Hz. Default 28e9. */
  carrier?: number
  /**
   * Bandwidth `B` in Hz: the parameter is the frequency `f ∈ [f_c − B/2, f_c + B/2]` in Hz. Ignored
   * with `subcarriers`. Default 100e6.
   */
  bandwidth?: number
  /**
   * Number of subcarriers `N` (≥ 2): the parameter is then the continuous subcarrier index
   * `k ∈ [0, N − 1]` at `f = f_c + (k − (N − 1)/2)·Δf`. Default unset (the parameter is the frequency).
   */
  subcarriers?: number
  /** Subcarrier spacing `Δf` in Hz, used with `subcarriers`. Default 120e3. */
  subcarrierSpacing?: number
  /** Receive array. Default a ULA of 8 elements at half a wavelength. */
  rx?: CdlArrayOptions
  /** Transmit array. Default a ULA of 8 elements at half a wavelength. */
  tx?: CdlArrayOptions
  /** Frequency-dependent steering phases (`d/λ(f)`) instead of the carrier's. Default false. */
  beamSquint?: boolean
  /** Seed of the ray couplings and phases (reproducible across platforms). Default 0. */
  seed?: number
  /**
   * `'channel'`: `H(f)` (`n_r × n_t`); `'gram'`: the MMSE Gram matrix `H(f)ᴴH(f) + σ²I`
   * (`n_t × n_t`, Hermitian positive definite). Default `'gram'`.
   */
  form?: 'channel' | 'gram'
  /** Per-receive-antenna SNR in dB, setting `σ² = n_t · 10^(−snrDb/10)`. Default 20. */
  snrDb?: number
}

/**
 * Options of {@link Family.adr}: the paper's App. H advection–diffusion–reaction operator
 * `−Δu + v(p)·∇u + c u = 1` on the unit square, `v(p) = D (cos 2πp, sin 2πp)`, `p ∈ [0, 1]`,
 * centred differences on a `grid × grid` interior grid. Every field is optional; defaults live in Rust.
 */
export interface AdrOptions {
  /** Interior grid points per side `m` (2…1000); `n = m²` unknowns. Default 100. */
  grid?: number
  /** Advection speed `D`. Default 50. */
  advection?: number
  /** Reaction coefficient `c` (`c ≥ 0` keeps every `A(p)` nonsingular). Default 1. */
  reaction?: number
}

const INTEGER_SYNTHETIC = new Set(['n', 'rank', 'seed'])
const INTEGER_SPD_FOURIER = new Set(['n', 'rank', 'maxFreq', 'seed'])
const INTEGER_CONTROLLED_RANK = new Set(['rows', 'cols', 'rank', 'paramRank', 'seed'])

const CDL_STRINGS = new Set(['profile', 'form'])
const CDL_ARRAY_INTEGERS = new Set(['rows', 'cols'])
const INTEGER_CDL = new Set(['subcarriers', 'seed'])

/** Type checks of {@link CdlOptions} (values are the engine's to judge), then the JSON it parses. */
function cdlJson(opts: CdlOptions): string {
  checkOptionsObject(opts, 'Family.cdl')
  const { rx, tx, ...flat } = opts
  for (const [key, v] of [['rx', rx], ['tx', tx]] as const) {
    if (v !== undefined) optionsJson(`Family.cdl: option ${key}`, v, { integers: CDL_ARRAY_INTEGERS })
  }
  optionsJson('Family.cdl', flat, { integers: INTEGER_CDL, booleans: new Set(['beamSquint']), strings: CDL_STRINGS })
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

  /** @internal */
  protected constructor(native: NativeFamily) {
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
    const json = optionsJson('Family.synthetic', options, { integers: INTEGER_SYNTHETIC, booleans: new Set(['spd']) })
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
    const json = optionsJson('Family.spdFourier', options, { integers: INTEGER_SPD_FOURIER })
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
    const json = optionsJson('Family.controlledRank', options, { integers: INTEGER_CONTROLLED_RANK })
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
  static fromSamples(options: ComplexSamplesOptions): ComplexFamily
  static fromSamples(options: SamplesOptions): Family
  /**
   * Complex matrices (`matrices` as `{ re, im }` planes or `{ data, layout: 'interleaved' }`) give a
   * {@link ComplexFamily}; training then learns the complex inverse or SVD.
   *
   * @example
   * ```ts
   * const fam = Family.fromSamples({ paramDim: 1, params, matrices: { batch, rows: n, cols: n, re, im } })
   * fam.complex                       // true
   * const A = fam.at(params.subarray(0, 1))   // ComplexMatrixBatch
   * ```
   */
  static fromSamples(options: SamplesOptions | ComplexSamplesOptions): Family {
    checkOptionsObject(options, 'Family.fromSamples')
    const paramDim = checkCount(options.paramDim, 'paramDim', 1)
    checkParams(options.params, paramDim, 'params')
    const mats: unknown = options.matrices
    if (typeof mats === 'object' && mats !== null && ('re' in mats || 'im' in mats)) {
      const m = checkComplexBatch(mats, 'matrices') as ComplexMatrixBatch<Float64Array>
      return new ComplexFamily(
        callNative(() => NativeFamily.fromSamplesComplex(paramDim, options.params, m.batch, m.rows, m.cols, m.re, m.im)),
      )
    }
    if (typeof mats === 'object' && mats !== null && 'layout' in mats) {
      const m = checkInterleavedBatch(mats, 'matrices')
      return new ComplexFamily(
        callNative(() => NativeFamily.fromSamplesInterleaved(paramDim, options.params, m.batch, m.rows, m.cols, m.data)),
      )
    }
    const m = checkMatrixBatch(mats, 'matrices') as MatrixBatch<Float64Array>
    return new Family(
      callNative(() => NativeFamily.fromSamples(paramDim, options.params, m.batch, m.rows, m.cols, m.data)),
    )
  }

  /**
   * TR 38.901 clustered-delay-line MIMO channels over a band (§7.7.1: CDL-A … E, 20 rays per
   * cluster, single-polarised isotropic elements, no Doppler): by default the MMSE Gram matrices
   * `H(f)ᴴH(f) + σ²I`, Hermitian positive definite, `n_t × n_t`; with `form: 'channel'` the channels
   * `H(f)` themselves. The parameter is the frequency in Hz (or a subcarrier index with
   * `subcarriers`). Complex: {@link ComplexFamily.at} returns a {@link ComplexMatrixBatch}.
   *
   * @example
   * ```ts
   * const fam = Family.cdl({ rx: { rows: 1, cols: 8 }, tx: { rows: 1, cols: 8 }, delaySpread: 10e-9, bandwidth: 50e6 })
   * const G = fam.at(Float64Array.of(28e9))            // 1 × 8 × 8 complex Gram matrix
   * const model = await NeuMatC.train(fam, 'inverse')  // the MMSE inverse along the band
   * ```
   *
   * @param options - profile, delay spread, band, arrays, seed, form, SNR; every field optional
   * @throws TypeError/RangeError for options of the wrong type
   * @throws InvalidOptionError for values the engine rejects (the message names the option)
   */
  static cdl(options: CdlOptions = {}): ComplexFamily {
    const json = cdlJson(options)
    return new ComplexFamily(callNative(() => NativeFamily.cdl(json)))
  }

  /**
   * The paper's App. H advection–diffusion–reaction operator, `A(p) = A0 + cos(2πp) A1 + sin(2πp) A2`
   * (sparse, `n = grid²`), with the right-hand side `b = 1`. Solve it with {@link baselines.sparseSolve}
   * (sparse LU) or {@link baselines.krylov} (GMRES + ILU(0)); {@link Family.at} gives dense matrices
   * only up to `n = 4096`.
   *
   * @param options - grid, advection speed, reaction coefficient; every field optional
   * @throws TypeError/RangeError for non-numeric or non-integer options
   * @throws InvalidOptionError for values the engine rejects (e.g. `grid: 1`)
   */
  static adr(options: AdrOptions = {}): AdrFamily {
    const json = optionsJson('Family.adr', options, { integers: new Set(['grid']) })
    return new AdrFamily(callNative(() => NativeFamily.adr(json)))
  }

  /** Whether `A(p)` is complex ({@link Family.at} then returns a {@link ComplexMatrixBatch}). */
  get complex(): boolean {
    return this.native.isComplex
  }

  /** Rows of each matrix (of the complex matrices, for a complex family). */
  get rows(): number {
    return this.complex ? callNative(() => this.native.complexShape())[0] : this.native.rows
  }

  /** Columns of each matrix (of the complex matrices, for a complex family). */
  get cols(): number {
    return this.complex ? callNative(() => this.native.complexShape())[1] : this.native.cols
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
   * `A(p)` for a batch of parameters, computed on the calling thread: a {@link MatrixBatch}, or a
   * {@link ComplexMatrixBatch} for a complex family ({@link ComplexFamily}).
   *
   * @param params - `batch * paramDim` finite values
   * @returns `{ batch, rows, cols, data: Float64Array }` (complex: `{ batch, rows, cols, re, im }`)
   * @throws TypeError/RangeError for a malformed `params`
   * @throws OutOfDomainError if a parameter lies outside {@link Family.domain}
   * @throws InvalidInputError / OutOfMemoryError if the dense matrices are too large (a large {@link Family.adr})
   */
  at(this: ComplexFamily, params: Float64Array): ComplexMatrixBatch<Float64Array>
  at(params: Float64Array): MatrixBatch<Float64Array>
  at(params: Float64Array): MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array> {
    checkParams(params, this.paramDim)
    if (this.complex) return callNative(() => this.native.atComplex(params))
    return callNative(() => this.native.at(params))
  }

  /**
   * Like {@link Family.at}, computed off the JavaScript thread. `params` is copied first, so it
   * may be changed as soon as this returns.
   */
  atAsync(this: ComplexFamily, params: Float64Array): Promise<ComplexMatrixBatch<Float64Array>>
  atAsync(params: Float64Array): Promise<MatrixBatch<Float64Array>>
  async atAsync(params: Float64Array): Promise<MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>> {
    checkParams(params, this.paramDim)
    if (this.complex) return awaitNative(() => this.native.atComplexAsync(params))
    return awaitNative(() => this.native.atAsync(params))
  }
}

/**
 * A family of complex matrices `A(p)` ({@link Family.cdl}, or {@link Family.fromSamples} with
 * complex matrices): {@link Family.at} returns {@link ComplexMatrixBatch}es, `rows`/`cols` are the
 * complex shape, and models trained on it (`'inverse'` or `'svd'`) predict complex results.
 * Internally the engine works on the real embedding `[[Re, −Im], [Im, Re]]`.
 */
export class ComplexFamily extends Family {
  /** @internal */
  constructor(native: NativeFamily) {
    super(native)
  }

  /** Always `true`. */
  override get complex(): true {
    return true
  }
}

/**
 * The sparse advection–diffusion–reaction family of {@link Family.adr}: `A(p) x = b` with `b = 1`,
 * `n = grid²` unknowns, `p ∈ [0, 1]`.
 */
export class AdrFamily extends Family {
  /** @internal */
  constructor(native: NativeFamily) {
    super(native)
  }

  /** Unknowns `n = grid²`. */
  get n(): number {
    return this.native.sparseN ?? 0
  }

  /**
   * Relative residuals `‖A(p) x − b‖₂ / ‖b‖₂` (`b = 1`) of candidate solutions, one per parameter,
   * computed with the sparse operator.
   *
   * @param params - `batch` parameters in `[0, 1]`
   * @param x - the solutions, `batch * n` values (a `Float64Array`, or a (batch, n, 1) {@link MatrixBatch})
   * @returns one relative residual per parameter
   * @throws TypeError/RangeError for malformed arguments
   * @throws OutOfDomainError for a parameter outside `[0, 1]`
   */
  residual(params: Float64Array, x: Float64Array | MatrixBatch<Float64Array>): Float64Array {
    const batch = checkParams(params, 1)
    const data = x instanceof Float64Array ? x : (checkMatrixBatch(x, 'x') as MatrixBatch<Float64Array>).data
    if (!(data instanceof Float64Array)) throw new TypeError('x must be a Float64Array or a MatrixBatch')
    if (data.length !== batch * this.n) throw new RangeError(`x has ${data.length} values, expected batch*n = ${batch * this.n}`)
    return Float64Array.from(callNative(() => this.native.sparseResidual(params, data)))
  }
}
