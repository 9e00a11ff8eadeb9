/**
 * The baselines every learned model is measured against, computed in Rust in f64 (results in
 * `Float64Array`), batched, each with a `…Sync` twin that runs on the calling thread:
 *
 * - exact, pointwise: {@link inverse} (LU), {@link solve}, {@link svd}, {@link qr}, {@link cholesky},
 *   {@link eigh}, {@link expm};
 * - randomized SVDs: {@link rsvd} (Halko–Martinsson–Tropp) and {@link crsvd} (one test matrix shared
 *   along the batch);
 * - the paper's inversion baselines: {@link newtonSchulz} (NNI), {@link coi} (interpolation of
 *   precomputed inverses along `p`) and {@link znn} (a Zhang neural network integrated along `p`);
 * - complex matrices: {@link inverse} and {@link svd} take a {@link ComplexMatrixBatch} too;
 * - sparse families ({@link Family.adr}): {@link sparseSolve} (sparse LU) and {@link krylov}
 *   (GMRES + ILU(0) along `p`, the paper's App. H Krylov baseline).
 *
 * The async forms copy their inputs first, so they may be changed as soon as the call returns.
 *
 * @module
 */
import {
  type NativeCoi,
  type NativeComplexSvd,
  type NativeKrylov,
  type NativeSvd,
  baselineCholesky,
  baselineCholeskySync,
  baselineCoi,
  baselineCoiSync,
  baselineComplexInverse,
  baselineComplexInverseSync,
  baselineComplexSvd,
  baselineComplexSvdSync,
  baselineCrsvd,
  baselineCrsvdSync,
  baselineEigh,
  baselineEighSync,
  baselineExpm,
  baselineExpmSync,
  baselineInverse,
  baselineInverseSync,
  baselineKrylov,
  baselineKrylovSync,
  baselineNewtonSchulz,
  baselineNewtonSchulzSync,
  baselineQr,
  baselineQrSync,
  baselineRsvd,
  baselineRsvdSync,
  baselineSolve,
  baselineSolveSync,
  baselineSparseSolve,
  baselineSparseSolveSync,
  baselineSvd,
  baselineSvdSync,
  baselineZnn,
  baselineZnnSync,
} from './backend.js'
import { checkOptionsObject, optionsJson } from './args.js'
import { awaitNative, callNative } from './errors.js'
import { AdrFamily, Family } from './families.js'
import {
  type ComplexMatrixBatch,
  type MatrixBatch,
  checkComplexBatch,
  checkCount,
  checkMatrixBatch,
  checkParams,
  isComplexBatch,
  toFloat64,
} from './matrix.js'
import type { Components } from './operations.js'

/** Exact SVDs: `U` (batch, m, r), `S` (batch, r, 1) in descending order, `V` (batch, n, r), `A = U diag(S) Vᵀ`. */
export type SvdResult = Components<'svd', Float64Array>

/** Thin QR factorisations: `Q` (batch, m, n) with orthonormal columns, `R` (batch, n, n) upper triangular with `diag(R) ≥ 0`. */
export type QrResult = Components<'qr', Float64Array>

/** Symmetric eigendecompositions: `values` (batch, n, 1) ascending, `vectors` (batch, n, n) with eigenvector `j` in column `j`. */
export type EighResult = Components<'eigh', Float64Array>

/**
 * Exact complex SVDs `A = U diag(S) Vᴴ`: `U` (batch, m, r) and `V` (batch, n, r) complex with
 * orthonormal columns, `S` (batch, r, 1) real and descending. Each pair `(u_j, v_j)` is in a
 * canonical phase: the largest-magnitude entry of `v_j` is real and positive.
 */
export interface ComplexSvdResult {
  /** Left singular vectors, (batch, m, r). */
  U: ComplexMatrixBatch<Float64Array>
  /** Singular values, (batch, r, 1), descending. */
  S: MatrixBatch<Float64Array>
  /** Right singular vectors, (batch, n, r). */
  V: ComplexMatrixBatch<Float64Array>
}

/** Options of {@link svd}. */
export interface SvdOptions {
  /** Keep the `rank` largest singular triplets (default: the thin SVD, `r = min(m, n)`). */
  rank?: number
}

/** Options of {@link rsvd} and {@link crsvd}. Every field is optional; defaults live in Rust. */
export interface RsvdOptions {
  /** Truncation rank `r`, in `1..min(m, n)`. Default 20. */
  rank?: number
  /** Extra sketch columns: the sketch has `min(rank + oversample, min(m, n))` columns. Default 10. */
  oversample?: number
  /** Power (subspace) iterations, each one pass with `Aᵀ` and one with `A`. Default 1. */
  powerIters?: number
  /** Seed of the Gaussian test matrices: equal seeds give equal results. Default 0. */
  seed?: number
}

/** Options of {@link newtonSchulz}. Every field is optional; defaults live in Rust. */
export interface NewtonSchulzOptions {
  /** Most iterations per matrix (each costs two GEMMs), at most 10 000. Default 100. */
  maxIters?: number
  /** Stop when `‖I − A X_k‖_F / √n` is at most this (0 runs every iteration). Default 1e-10. */
  tol?: number
}

/** The result of {@link newtonSchulz}. */
export interface NewtonSchulzResult {
  /** The last iterate per matrix, (batch, n, n), whether or not it met the tolerance. */
  inverse: MatrixBatch<Float64Array>
  /** Iterations each matrix took (`maxIters` where the tolerance was not met). */
  iterations: number[]
}

/** Options of {@link coi}. Every field is optional; defaults live in Rust. */
export interface CoiOptions {
  /** Chebyshev–Lobatto nodes per parameter dimension (≥ 2; `nodes^k` ≤ 4096 in all). Default 16. */
  nodes?: number
}

/** Options of {@link znn}. Every field is optional; defaults live in Rust. */
export interface ZnnOptions {
  /** ZNN gain `γ` per unit of `p` (≥ 0): how hard the dynamics pull `X` back onto `A(p)⁻¹`. Default 10. */
  gamma?: number
  /** RK4 steps between consecutive grid parameters (≥ 1). Default 4. */
  substeps?: number
}

function f64(A: MatrixBatch<Float64Array>, name = 'A'): MatrixBatch<Float64Array> {
  return checkMatrixBatch(A, name) as MatrixBatch<Float64Array>
}

function c64(A: ComplexMatrixBatch<Float64Array>, name = 'A'): ComplexMatrixBatch<Float64Array> {
  return checkComplexBatch(A, name) as ComplexMatrixBatch<Float64Array>
}

function svdResult(s: NativeSvd): SvdResult {
  return { U: s.u, S: s.s, V: s.v }
}

function complexSvdResult(s: NativeComplexSvd): ComplexSvdResult {
  return { U: s.u, S: s.s, V: s.v }
}

function rankOf(options: SvdOptions): number | undefined {
  checkOptionsObject(options, 'svd')
  return options.rank === undefined ? undefined : checkCount(options.rank, 'rank')
}

/**
 * Exact inverse (LU with partial pivoting) of every matrix in the batch, off the JavaScript
 * thread; complex arithmetic for a {@link ComplexMatrixBatch}. The input is copied first.
 *
 * @param A - a batch of square matrices, real or complex
 * @returns the inverses, same shape (and kind), `Float64Array`
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for non-square matrices
 * @throws SingularMatrixError for a singular matrix
 */
export async function inverse(A: ComplexMatrixBatch<Float64Array>): Promise<ComplexMatrixBatch<Float64Array>>
export async function inverse(A: MatrixBatch<Float64Array>): Promise<MatrixBatch<Float64Array>>
export async function inverse(
  A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>,
): Promise<MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>> {
  if (isComplexBatch(A)) {
    const c = c64(A)
    return awaitNative(() => baselineComplexInverse(c.batch, c.rows, c.cols, c.re, c.im))
  }
  const a = f64(A)
  return awaitNative(() => baselineInverse(a.batch, a.rows, a.cols, a.data))
}

/** Like {@link inverse}, on the calling thread. */
export function inverseSync(A: ComplexMatrixBatch<Float64Array>): ComplexMatrixBatch<Float64Array>
export function inverseSync(A: MatrixBatch<Float64Array>): MatrixBatch<Float64Array>
export function inverseSync(
  A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>,
): MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array> {
  if (isComplexBatch(A)) {
    const c = c64(A)
    return callNative(() => baselineComplexInverseSync(c.batch, c.rows, c.cols, c.re, c.im))
  }
  const a = f64(A)
  return callNative(() => baselineInverseSync(a.batch, a.rows, a.cols, a.data))
}

/**
 * Solves `A x = b` for every matrix of the batch (LU with partial pivoting).
 *
 * @param A - a batch of square `n × n` matrices
 * @param b - one right-hand side shared by the batch (`n` values) or one per matrix (`batch * n`)
 * @returns `x`, (batch, n, 1)
 * @throws TypeError/RangeError for a malformed batch or `b`
 * @throws ShapeMismatchError for non-square matrices or a `b` of another length
 * @throws SingularMatrixError for a singular matrix
 */
export async function solve(A: MatrixBatch<Float64Array>, b: Float64Array | readonly number[]): Promise<MatrixBatch<Float64Array>> {
  const a = f64(A)
  const rhs = toFloat64(b, 'b')
  return awaitNative(() => baselineSolve(a.batch, a.rows, a.cols, a.data, rhs))
}

/** Like {@link solve}, on the calling thread. */
export function solveSync(A: MatrixBatch<Float64Array>, b: Float64Array | readonly number[]): MatrixBatch<Float64Array> {
  const a = f64(A)
  const rhs = toFloat64(b, 'b')
  return callNative(() => baselineSolveSync(a.batch, a.rows, a.cols, a.data, rhs))
}

/**
 * Exact thin SVD `A = U diag(S) Vᵀ` of every matrix of the batch, or its truncation to the `rank`
 * largest singular triplets.
 *
 * @example
 * ```ts
 * const { U, S, V } = await baselines.svd(A, { rank: 20 })
 * metrics.relErrSvd(A, { U, S, V })   // the truncation's tail energy
 * ```
 *
 * @param A - a batch of `m × n` matrices
 * @param options - `rank` (default `min(m, n)`)
 * @returns `{ U, S, V }`, see {@link SvdResult}
 * @throws TypeError/RangeError for a malformed batch or rank
 * @throws InvalidOptionError for a rank of 0 or above `min(m, n)`
 */
export async function svd(A: ComplexMatrixBatch<Float64Array>, options?: SvdOptions): Promise<ComplexSvdResult>
export async function svd(A: MatrixBatch<Float64Array>, options?: SvdOptions): Promise<SvdResult>
export async function svd(
  A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>,
  options: SvdOptions = {},
): Promise<SvdResult | ComplexSvdResult> {
  if (isComplexBatch(A)) {
    const c = c64(A)
    const rank = rankOf(options)
    return complexSvdResult(await awaitNative(() => baselineComplexSvd(c.batch, c.rows, c.cols, c.re, c.im, rank)))
  }
  const a = f64(A)
  const rank = rankOf(options)
  return svdResult(await awaitNative(() => baselineSvd(a.batch, a.rows, a.cols, a.data, rank)))
}

/** Like {@link svd}, on the calling thread. */
export function svdSync(A: ComplexMatrixBatch<Float64Array>, options?: SvdOptions): ComplexSvdResult
export function svdSync(A: MatrixBatch<Float64Array>, options?: SvdOptions): SvdResult
export function svdSync(
  A: MatrixBatch<Float64Array> | ComplexMatrixBatch<Float64Array>,
  options: SvdOptions = {},
): SvdResult | ComplexSvdResult {
  if (isComplexBatch(A)) {
    const c = c64(A)
    const rank = rankOf(options)
    return complexSvdResult(callNative(() => baselineComplexSvdSync(c.batch, c.rows, c.cols, c.re, c.im, rank)))
  }
  const a = f64(A)
  const rank = rankOf(options)
  return svdResult(callNative(() => baselineSvdSync(a.batch, a.rows, a.cols, a.data, rank)))
}

/**
 * Thin QR factorisation `A = QR` of every matrix of the batch, with `diag(R) ≥ 0` (which makes it
 * unique for full-rank `A`).
 *
 * @param A - a batch of `m × n` matrices with `m ≥ n`
 * @returns `{ Q, R }`, see {@link QrResult}
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for `m < n`
 */
export async function qr(A: MatrixBatch<Float64Array>): Promise<QrResult> {
  const a = f64(A)
  const r = await awaitNative(() => baselineQr(a.batch, a.rows, a.cols, a.data))
  return { Q: r.q, R: r.r }
}

/** Like {@link qr}, on the calling thread. */
export function qrSync(A: MatrixBatch<Float64Array>): QrResult {
  const a = f64(A)
  const r = callNative(() => baselineQrSync(a.batch, a.rows, a.cols, a.data))
  return { Q: r.q, R: r.r }
}

/**
 * Cholesky factor `L` (`A = L Lᵀ`) of every matrix of the batch.
 *
 * @param A - a batch of symmetric positive definite matrices
 * @returns `L`, same shape: lower triangular with a positive diagonal and exact zeros above it
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for non-square matrices
 * @throws InvalidInputError for a matrix that is not symmetric
 * @throws NotPositiveDefiniteError for a symmetric matrix that is not positive definite
 */
export async function cholesky(A: MatrixBatch<Float64Array>): Promise<MatrixBatch<Float64Array>> {
  const a = f64(A)
  return awaitNative(() => baselineCholesky(a.batch, a.rows, a.cols, a.data))
}

/** Like {@link cholesky}, on the calling thread. */
export function choleskySync(A: MatrixBatch<Float64Array>): MatrixBatch<Float64Array> {
  const a = f64(A)
  return callNative(() => baselineCholeskySync(a.batch, a.rows, a.cols, a.data))
}

/**
 * Symmetric eigendecomposition `A = V diag(λ) Vᵀ` of every matrix of the batch.
 *
 * @param A - a batch of symmetric matrices
 * @returns `{ values, vectors }`, see {@link EighResult}
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for non-square matrices
 * @throws InvalidInputError for a matrix that is not symmetric
 */
export async function eigh(A: MatrixBatch<Float64Array>): Promise<EighResult> {
  const a = f64(A)
  return awaitNative(() => baselineEigh(a.batch, a.rows, a.cols, a.data))
}

/** Like {@link eigh}, on the calling thread. */
export function eighSync(A: MatrixBatch<Float64Array>): EighResult {
  const a = f64(A)
  return callNative(() => baselineEighSync(a.batch, a.rows, a.cols, a.data))
}

/**
 * Matrix exponential `exp(A)` of every matrix of the batch (scaling and squaring with a Padé
 * approximant, Al-Mohy & Higham 2009).
 *
 * @param A - a batch of square matrices
 * @returns `exp(A)`, same shape
 * @throws TypeError/RangeError for a malformed batch
 * @throws ShapeMismatchError for non-square matrices
 * @throws InvalidInputError when the result overflows
 */
export async function expm(A: MatrixBatch<Float64Array>): Promise<MatrixBatch<Float64Array>> {
  const a = f64(A)
  return awaitNative(() => baselineExpm(a.batch, a.rows, a.cols, a.data))
}

/** Like {@link expm}, on the calling thread. */
export function expmSync(A: MatrixBatch<Float64Array>): MatrixBatch<Float64Array> {
  const a = f64(A)
  return callNative(() => baselineExpmSync(a.batch, a.rows, a.cols, a.data))
}

const RSVD_INTEGERS = new Set(['rank', 'oversample', 'powerIters', 'seed'])

/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011) of every matrix of the batch, each with
 * its own Gaussian test matrix. Seeded: equal options give equal results, whatever the thread count.
 *
 * @param A - a batch of `m × n` matrices
 * @param options - `rank`, `oversample`, `powerIters`, `seed`
 * @returns `{ U, S, V }` of rank `options.rank`, see {@link SvdResult}
 * @throws TypeError/RangeError for a malformed batch or options
 * @throws InvalidOptionError for a rank of 0 or above `min(m, n)`, too many power iterations
 */
export async function rsvd(A: MatrixBatch<Float64Array>, options: RsvdOptions = {}): Promise<SvdResult> {
  const a = f64(A)
  const json = optionsJson('rsvd', options, { integers: RSVD_INTEGERS })
  return svdResult(await awaitNative(() => baselineRsvd(a.batch, a.rows, a.cols, a.data, json)))
}

/** Like {@link rsvd}, on the calling thread. */
export function rsvdSync(A: MatrixBatch<Float64Array>, options: RsvdOptions = {}): SvdResult {
  const a = f64(A)
  const json = optionsJson('rsvd', options, { integers: RSVD_INTEGERS })
  return svdResult(callNative(() => baselineRsvdSync(a.batch, a.rows, a.cols, a.data, json)))
}

/**
 * Continuous randomized SVD (the paper's CRSVD, after Kressner & Lam): {@link rsvd} with one
 * Gaussian test matrix shared by every matrix of the batch, so that the factors vary smoothly along
 * a family's parameters. Matrix `i` gets the result `rsvd` gives it alone in a batch of one.
 *
 * @param A - a batch of `m × n` matrices, typically `A(p)` along a grid of parameters
 * @param options - `rank`, `oversample`, `powerIters`, `seed`
 * @returns `{ U, S, V }` of rank `options.rank`
 * @throws TypeError/RangeError for a malformed batch or options
 * @throws InvalidOptionError for a rank of 0 or above `min(m, n)`
 */
export async function crsvd(A: MatrixBatch<Float64Array>, options: RsvdOptions = {}): Promise<SvdResult> {
  const a = f64(A)
  const json = optionsJson('crsvd', options, { integers: RSVD_INTEGERS })
  return svdResult(await awaitNative(() => baselineCrsvd(a.batch, a.rows, a.cols, a.data, json)))
}

/** Like {@link crsvd}, on the calling thread. */
export function crsvdSync(A: MatrixBatch<Float64Array>, options: RsvdOptions = {}): SvdResult {
  const a = f64(A)
  const json = optionsJson('crsvd', options, { integers: RSVD_INTEGERS })
  return svdResult(callNative(() => baselineCrsvdSync(a.batch, a.rows, a.cols, a.data, json)))
}

/**
 * The paper's NNI baseline: the Newton–Schulz iteration `X_{k+1} = X_k (2I − A X_k)` from
 * `X_0 = Aᵀ / (‖A‖₁ ‖A‖_∞)`, on every matrix of the batch. Returns the last iterate and the
 * iteration count of every matrix whether or not it met the tolerance: check `iterations` (or the
 * residual) rather than expecting an error.
 *
 * @param A - a batch of square matrices
 * @param options - `maxIters`, `tol`
 * @returns `{ inverse, iterations }`
 * @throws TypeError/RangeError for a malformed batch or options
 * @throws ShapeMismatchError for non-square matrices
 * @throws SingularMatrixError for a zero matrix
 * @throws ConvergenceError if the iterate overflows
 */
export async function newtonSchulz(A: MatrixBatch<Float64Array>, options: NewtonSchulzOptions = {}): Promise<NewtonSchulzResult> {
  const a = f64(A)
  const json = optionsJson('newtonSchulz', options, { integers: new Set(['maxIters']) })
  return awaitNative(() => baselineNewtonSchulz(a.batch, a.rows, a.cols, a.data, json))
}

/** Like {@link newtonSchulz}, on the calling thread. */
export function newtonSchulzSync(A: MatrixBatch<Float64Array>, options: NewtonSchulzOptions = {}): NewtonSchulzResult {
  const a = f64(A)
  const json = optionsJson('newtonSchulz', options, { integers: new Set(['maxIters']) })
  return callNative(() => baselineNewtonSchulzSync(a.batch, a.rows, a.cols, a.data, json))
}

/**
 * A COI baseline built by {@link coi}: exact inverses at a Chebyshev–Lobatto grid of its family's
 * domain, interpolated (barycentric Lagrange) at new parameters. Exact at the grid nodes; between
 * them the error falls geometrically with the number of nodes for an `A(p)⁻¹` analytic in `p`.
 */
export class Coi {
  /** The engine's baseline. @internal */
  readonly native: NativeCoi
  /** Length `k` of one parameter vector. */
  readonly paramDim: number

  /** @internal */
  constructor(native: NativeCoi, paramDim: number) {
    this.native = native
    this.paramDim = paramDim
  }

  /** Matrix order `n`. */
  get n(): number {
    return this.native.n
  }

  /** The interpolation nodes: `nodes^k` parameter vectors, row-major, the last dimension fastest. */
  get nodes(): Float64Array {
    return Float64Array.from(callNative(() => this.native.nodes()))
  }

  /**
   * The interpolated inverses at a batch of parameters, off the JavaScript thread (`params` is
   * copied first).
   *
   * @param params - `batch * paramDim` finite values inside the family's domain
   * @returns (batch, n, n), `Float64Array`
   * @throws TypeError/RangeError for a malformed `params`
   * @throws OutOfDomainError for parameters outside the domain
   */
  async inverse(params: Float64Array): Promise<MatrixBatch<Float64Array>> {
    checkParams(params, this.paramDim)
    return awaitNative(() => this.native.inverse(params))
  }

  /** Like {@link Coi.inverse}, on the calling thread. */
  inverseSync(params: Float64Array): MatrixBatch<Float64Array> {
    checkParams(params, this.paramDim)
    return callNative(() => this.native.inverseSync(params))
  }
}

function checkFamily(family: unknown, what: string): asserts family is Family {
  if (!(family instanceof Family)) throw new TypeError(`${what}: family must be a Family`)
  if (family.complex) throw new TypeError(`${what}: complex families are not supported (use inverse() on family.at(p))`)
}

/**
 * Builds the paper's COI baseline (continuous operator interpolation) for a family: exact LU
 * inverses at `nodes^k` Chebyshev–Lobatto points of its domain, computed here, off the JavaScript
 * thread. Evaluating it costs one GEMM over the nodes per call (see {@link Coi}).
 *
 * @example
 * ```ts
 * const c = await baselines.coi(fam, { nodes: 24 })
 * const X = await c.inverse(Float64Array.of(0.3, 0.7))
 * ```
 *
 * @param family - a real square family that can be evaluated anywhere in its box (not `fromSamples`)
 * @param options - `nodes` per parameter dimension
 * @returns the baseline
 * @throws TypeError/RangeError for malformed options
 * @throws InvalidOptionError for too many nodes (`nodes^k > 4096`) or fewer than 2
 * @throws ShapeMismatchError for a non-square family
 * @throws SingularMatrixError if `A` is singular at a node
 */
export async function coi(family: Family, options: CoiOptions = {}): Promise<Coi> {
  checkFamily(family, 'coi')
  const json = optionsJson('coi', options, { integers: new Set(['nodes']) })
  return new Coi(await awaitNative(() => baselineCoi(family.native, json)), family.paramDim)
}

/** Like {@link coi}, on the calling thread. */
export function coiSync(family: Family, options: CoiOptions = {}): Coi {
  checkFamily(family, 'coi')
  const json = optionsJson('coi', options, { integers: new Set(['nodes']) })
  return new Coi(callNative(() => baselineCoiSync(family.native, json)), family.paramDim)
}

/**
 * The paper's ZNNI baseline: `A(p)⁻¹` tracked along an ascending grid of parameters of a
 * one-parameter family by a Zhang neural network, `dX/dp = −X (dA/dp) X − γ X (A X − I)`,
 * integrated with RK4 from the exact inverse at the first grid point.
 *
 * @param family - a real square family with one parameter
 * @param params - the grid, ascending (equal neighbours allowed), inside the domain
 * @param options - `gamma`, `substeps`
 * @returns the ZNN's inverse at every grid point, (batch, n, n)
 * @throws TypeError/RangeError for malformed arguments
 * @throws InvalidOptionError for a family with more than one parameter, bad options
 * @throws InvalidInputError for a grid that is not ascending
 * @throws OutOfDomainError for grid points outside the domain
 * @throws ConvergenceError if the integration blows up
 */
export async function znn(family: Family, params: Float64Array, options: ZnnOptions = {}): Promise<MatrixBatch<Float64Array>> {
  checkFamily(family, 'znn')
  checkParams(params, family.paramDim)
  const json = optionsJson('znn', options, { integers: new Set(['substeps']) })
  return awaitNative(() => baselineZnn(family.native, params, json))
}

/** Like {@link znn}, on the calling thread. */
export function znnSync(family: Family, params: Float64Array, options: ZnnOptions = {}): MatrixBatch<Float64Array> {
  checkFamily(family, 'znn')
  checkParams(params, family.paramDim)
  const json = optionsJson('znn', options, { integers: new Set(['substeps']) })
  return callNative(() => baselineZnnSync(family.native, params, json))
}

// ---------------------------------------------------------------------------------------------------
// Sparse families
// ---------------------------------------------------------------------------------------------------

/** Options of {@link krylov}. Every field is optional; defaults live in Rust. */
export interface KrylovOptions {
  /** Target relative residual `‖A(p)x − b‖₂ / ‖b‖₂` of every system, in `(0, 1)`. Default 1e-3. */
  tol?: number
  /** GMRES restart length (Krylov vectors kept), `1…1000`. Default 50. */
  restart?: number
  /** Most GMRES iterations per system (≥ 1); more is a {@link ConvergenceError}. Default 2000. */
  maxIter?: number
  /** Build ILU(0) once, at the first parameter, and reuse it (`true`), or per system (`false`). Default false. */
  recyclePreconditioner?: boolean
  /** Start each system from the previous solution (`true`) or from zero. Default true. */
  warmStart?: boolean
}

/** The result of {@link krylov}. */
export interface KrylovResult {
  /** The solutions, (batch, n, 1), in the order of the parameters. */
  x: MatrixBatch<Float64Array>
  /** GMRES iterations (preconditioned matrix–vector products) per system. */
  iterations: number[]
  /** Final true relative residual `‖A(p)x − b‖₂ / ‖b‖₂` per system. */
  residuals: Float64Array
  /** Wall time of the whole sequence (assembly, preconditioners, solves), seconds. */
  seconds: number
}

function checkSparse(family: unknown, what: string): asserts family is AdrFamily {
  if (!(family instanceof AdrFamily)) throw new TypeError(`${what}: family must be a sparse family (Family.adr)`)
}

function krylovJson(options: KrylovOptions): string {
  return optionsJson('krylov', options, { integers: new Set(['restart', 'maxIter']), booleans: new Set(['recyclePreconditioner', 'warmStart']) })
}

/**
 * Exact solutions `x(p) = A(p)⁻¹ b` of a sparse family (`b = 1`) by sparse LU (COLAMD ordering, the
 * symbolic factorisation shared by every `p`), off the JavaScript thread.
 *
 * @example
 * ```ts
 * const fam = Family.adr({ grid: 100 })                 // n = 10⁴
 * const x = await baselines.sparseSolve(fam, Float64Array.of(0.1, 0.2))
 * fam.residual(Float64Array.of(0.1, 0.2), x)            // ~1e-13 each
 * ```
 *
 * @param family - a sparse family ({@link Family.adr})
 * @param params - `batch` parameters in `[0, 1]`
 * @returns `x`, (batch, n, 1)
 * @throws TypeError for a family that is not sparse, a malformed `params`
 * @throws OutOfDomainError for a parameter outside `[0, 1]`
 * @throws SingularMatrixError if the factorisation breaks down
 */
export async function sparseSolve(family: AdrFamily, params: Float64Array): Promise<MatrixBatch<Float64Array>> {
  checkSparse(family, 'sparseSolve')
  checkParams(params, family.paramDim)
  return awaitNative(() => baselineSparseSolve(family.native, params))
}

/** Like {@link sparseSolve}, on the calling thread. */
export function sparseSolveSync(family: AdrFamily, params: Float64Array): MatrixBatch<Float64Array> {
  checkSparse(family, 'sparseSolve')
  checkParams(params, family.paramDim)
  return callNative(() => baselineSparseSolveSync(family.native, params))
}

function krylovResult(k: NativeKrylov): KrylovResult {
  return { x: k.x, iterations: k.iterations, residuals: k.residuals, seconds: k.seconds }
}

/**
 * The paper's App. H Krylov baseline: `A(p) x = b` solved for each parameter in the order given
 * (sort them along `p` for the warm start to help) by restarted GMRES right-preconditioned with
 * ILU(0), off the JavaScript thread.
 *
 * @param family - a sparse family ({@link Family.adr})
 * @param params - `batch` parameters in `[0, 1]`
 * @param options - `tol`, `restart`, `maxIter`, `recyclePreconditioner`, `warmStart`
 * @returns `{ x, iterations, residuals, seconds }`, see {@link KrylovResult}
 * @throws TypeError/RangeError for a family that is not sparse, malformed arguments
 * @throws InvalidOptionError for option values the engine rejects (the message names the option)
 * @throws ConvergenceError if a system does not reach `tol` within `maxIter` iterations
 * @throws OutOfDomainError for a parameter outside `[0, 1]`
 */
export async function krylov(family: AdrFamily, params: Float64Array, options: KrylovOptions = {}): Promise<KrylovResult> {
  checkSparse(family, 'krylov')
  checkParams(params, family.paramDim)
  const json = krylovJson(options)
  return krylovResult(await awaitNative(() => baselineKrylov(family.native, params, json)))
}

/** Like {@link krylov}, on the calling thread. */
export function krylovSync(family: AdrFamily, params: Float64Array, options: KrylovOptions = {}): KrylovResult {
  checkSparse(family, 'krylov')
  checkParams(params, family.paramDim)
  const json = krylovJson(options)
  return krylovResult(callNative(() => baselineKrylovSync(family.native, params, json)))
}
