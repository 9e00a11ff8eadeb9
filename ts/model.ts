/**
 * NeuMatC models: `G(p) ≈ Φ(p) · C`, trained once per family and operation, then evaluated on
 * any batch of parameters with one MLP pass and one GEMM.
 *
 * @module
 */
import {
  CancelToken,
  loadModel,
  loadModelSync,
  readModelMetadata,
  type NativeCheck,
  type NativeComponent,
  type NativeModel,
  type NativePrediction,
  type NativeRefined,
  train as nativeTrain,
  checkDevice,
} from './backend.js'
import { CancelledError, awaitNative, callNative, fromNative } from './errors.js'
import { type ComplexFamily, Family, type Domain } from './families.js'
import { type ComplexMatrixBatch, type FloatArray, type MatrixBatch, checkParams, toFloat64 } from './matrix.js'

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

/** A training progress event (`Progress` in Rust). Sent at phase changes, refinements and at most every ~100 ms while optimising. */
export interface Progress {
  /** `'sampling'`, `'exact'`, `'basis'`, `'collocation'`, `'optimize'`, `'refine'`, `'validate'` or `'done'`. */
  phase: string
  /** Adam steps done. */
  step: number
  /** Adam steps planned. */
  steps: number
  /** Total loss (data + λ · structure). */
  loss: number
  /** Data-fidelity term: mean `‖Ĝ(p_j) − G(p_j)‖²_F` over the supervised samples. */
  dataLoss: number
  /** Structure term: mean `‖A(q) Ĝ(q) − I‖²_F` over the collocation points. */
  structureLoss: number
  /** Last failure probability `P̂_F` of adaptive sampling, or `null` before the first estimate. */
  failureProb: number | null
  /** Current number of collocation points. */
  collocation: number
  /** Seconds since training started. */
  elapsed: number
  /** A warning or note, if any. */
  message: string | null
}

/** The record of a training run (`TrainReport` in Rust), kept in the model. */
export interface TrainReport {
  /** Wall-clock seconds of the whole run. */
  seconds: number
  /** Seconds in exact solves of the supervised samples. */
  exactSeconds: number
  /** Seconds building the structure terms of collocation points and candidates. */
  collocationSeconds: number
  /** Seconds in the optimiser. */
  optimizeSeconds: number
  /** Adam steps taken. */
  steps: number
  /** `'pod'` or `'plain'`. */
  method: string
  /** Latent dimension `d`. */
  latentDim: number
  /** POD tail energy `Σ_{l>d} σ_l² / Σ σ_l²` of the supervised solutions. */
  basisTail: number
  /** Mean smallest `‖A(q) G − I‖²_F / n` reachable in the span of the basis at the collocation points (the latent dimension's accuracy floor), if measured. */
  basisFloor: number | null
  /** Number of supervised samples (exact solves), including those added by basis refinement. */
  supervised: number
  /** Exact solves added by basis refinement. */
  supervisedAdded: number
  /** Collocation points at the start. */
  collocationInitial: number
  /** Collocation points at the end. */
  collocationFinal: number
  /** Collocation points added by refinement. */
  collocationAdded: number
  /** Whether Algorithm 1 stopped early (`P̂_F < ε_p`). */
  converged: boolean
  /** Final total loss. */
  loss: number
  /** Final data-fidelity term. */
  dataLoss: number
  /** Final structure term. */
  structureLoss: number
  /** Last failure probability over the candidates. */
  failureProb: number | null
  /**
   * Held-out RelErr (the paper's metric for the operation, see the `metrics` module) over
   * `heldOutCount` parameters never used in training.
   */
  heldOutRelErr: number | null
  /** Largest per-point held-out error. */
  heldOutMax: number | null
  /** Number of held-out parameters. */
  heldOutCount: number
  /**
   * Largest held-out orthogonality defect `‖XᵀX − I‖_F / √r` of the orthonormal factors (`U` and `V`
   * of `'svd'`, `Q` of `'qr'`, `vectors` of `'eigh'`); `null` for the other operations.
   */
  heldOutOrthogonality: number | null
  /** The learned operation. */
  operation: Operation
  /** Smallest 2-norm condition number of `A(p)` over the supervised samples. */
  conditionMin: number
  /** Largest 2-norm condition number of `A(p)` over the supervised samples. */
  conditionMax: number
  /** Largest condition estimate of `A(p)` over the candidate parameters, if measured. */
  conditionCandidatesMax: number | null
  /** `'cpu'`, `'cuda:N'`. */
  device: string
  /** `'f32'` or `'f64'`. */
  dtype: string
  /** Warnings raised during training (conditioning, extrapolation, low-rank structure, ...). */
  warnings: string[]
  /**
   * Singular values of the supervised snapshot matrix relative to the largest: how much low-rank
   * structure the family has along `p`. Training warns up front when they decay too slowly for the
   * accuracy asked for. Empty for the plain method.
   */
  snapshotDecay: number[]
}

/** Options of the (failure-informed adaptive) sampling, the paper's Algorithm 1. */
export interface SamplingOptions {
  /** Supervised samples `N_s` (exact solves). */
  supervised?: number
  /** Initial collocation points `N_c⁽⁰⁾`. */
  collocation?: number
  /** Size of the candidate set scored for adaptive sampling. */
  candidates?: number
  /** Steps `T` between adaptive-sampling rounds. */
  addEvery?: number
  /** Points `N_add` added per round. */
  add?: number
  /** Residual tolerance `ε_r`. */
  residualTol?: number
  /** Failure-probability tolerance `ε_p`. */
  failureTol?: number
  /** `'adaptive'` (Algorithm 1) or `'random'`. */
  strategy?: 'adaptive' | 'random'
}

/** Training options. Every field is optional; defaults live in Rust. */
export interface TrainOptions {
  /** Latent width `d` (default: from the data — the smallest `d` whose structure-residual floor at the collocation points is below `accuracy / 10`). */
  latentDim?: number
  /** Relative POD tail energy the automatic `latentDim` must reach. */
  latentTol?: number
  /** Held-out RelErr the automatic `latentDim` aims for (default 1e-5; smaller is more accurate and a little slower). */
  accuracy?: number
  /** Hidden layer widths of the MLP `Φ`. */
  hidden?: number[]
  /** Frequency `ω` of the sine activations. */
  omega?: number
  /** Activation of the hidden layers. */
  activation?: 'sine' | 'tanh' | 'relu' | 'gelu' | 'sigmoid'
  /** Weight `λ` of the structure loss. */
  lambda?: number
  /** Optimiser steps. */
  steps?: number
  /** Adam step size at the start of the cosine schedule. */
  learningRate?: number
  /** Final step size as a fraction of `learningRate`. */
  finalLearningRate?: number
  /** Element type of the model and its predictions. */
  dtype?: 'f32' | 'f64'
  /**
   * Where to train: `'cpu'`, `'cuda'` or `'cuda:N'`. A CUDA device needs the CUDA build of the
   * addon (see {@link backend}); with the CPU build it rejects with a {@link DeviceUnavailableError}.
   */
  device?: string
  /** Seed of every random choice (training is reproducible on CPU). */
  seed?: number
  /** `'pod'` (basis from the supervised snapshots) or `'plain'` (the paper's joint training). */
  method?: 'pod' | 'plain'
  /** `'full'` residual `‖A G − I‖²` or an unbiased random `'sketch'` of it. */
  structureLoss?: 'full' | 'sketch'
  /** Probe columns of the sketched structure loss. */
  probes?: number
  /** Sampling settings (Algorithm 1). */
  sampling?: SamplingOptions
  /** Held-out parameters used to measure the report's RelErr (never used in training). */
  validation?: number
  /** Condition number above which training refuses the family (`ILL_CONDITIONED`). */
  maxCondition?: number
  /** Condition number above which training warns. */
  warnCondition?: number
  /** Rank `r` of a truncated SVD (`'svd'` only; default: the thin SVD, `r = min(m, n)`). */
  rank?: number
  /**
   * The fixed right-hand side `b` of `'solve'`, `n` finite values (`'solve'` only, and required
   * there): the model learns `x(p) = A(p)⁻¹ b`.
   */
  rhs?: Float64Array | readonly number[]
  /** Called with progress events (throttled by the engine), on the JavaScript thread. */
  onProgress?: (event: Progress) => void
  /** Aborts the training; the promise then rejects with a {@link CancelledError}. */
  signal?: AbortSignal
}

const NUMBER_OPTIONS = [
  'latentDim', 'latentTol', 'accuracy', 'omega', 'lambda', 'steps', 'learningRate', 'finalLearningRate', 'seed', 'probes',
  'validation', 'maxCondition', 'warnCondition', 'rank',
] as const
const INTEGER_OPTIONS = new Set(['latentDim', 'steps', 'seed', 'probes', 'validation', 'rank'])
const STRING_OPTIONS = ['activation', 'dtype', 'device', 'method', 'structureLoss'] as const
const SAMPLING_NUMBERS = ['supervised', 'collocation', 'candidates', 'addEvery', 'add', 'residualTol', 'failureTol'] as const
const SAMPLING_INTEGERS = new Set(['supervised', 'collocation', 'candidates', 'addEvery', 'add'])

function checkNumber(v: unknown, name: string, integer: boolean): void {
  if (v === undefined) return
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`)
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be finite, got ${v}`)
  if (integer && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`${name} must be a non-negative integer, got ${v}`)
}

/** Type checks of the options, then the JSON the engine reads (`TrainConfig::from_json`). */
function optionsJson(options: TrainOptions): string {
  if (typeof options !== 'object' || options === null) throw new TypeError('train: options must be an object')
  const { onProgress: _p, signal: _s, ...rest } = options
  for (const key of NUMBER_OPTIONS) checkNumber(rest[key], key, INTEGER_OPTIONS.has(key))
  for (const key of STRING_OPTIONS) {
    if (rest[key] !== undefined && typeof rest[key] !== 'string') throw new TypeError(`${key} must be a string`)
  }
  checkDevice(rest.device)
  if (rest.hidden !== undefined) {
    if (!Array.isArray(rest.hidden)) throw new TypeError('hidden must be an array of layer widths')
    rest.hidden.forEach((w, i) => checkNumber(w, `hidden[${i}]`, true))
  }
  if (rest.sampling !== undefined) {
    if (typeof rest.sampling !== 'object' || rest.sampling === null) throw new TypeError('sampling must be an object')
    for (const key of SAMPLING_NUMBERS) checkNumber(rest.sampling[key], `sampling.${key}`, SAMPLING_INTEGERS.has(key))
    if (rest.sampling.strategy !== undefined && typeof rest.sampling.strategy !== 'string') {
      throw new TypeError('sampling.strategy must be a string')
    }
  }
  // A typed array would serialise as an object; the engine reads a plain array.
  const rhs = rest.rhs === undefined ? undefined : Array.from(toFloat64(rest.rhs, 'rhs'))
  return JSON.stringify({ ...rest, rhs })
}

type NativeFamilyArg = Family['native'] | null

function predictOptions(options: PredictOptions): [extrapolate: boolean, device: string | undefined] {
  checkOptionsObject(options, 'predict')
  const { extrapolate, device, ...rest } = options
  if (Object.keys(rest).length > 0) throw new TypeError(`predict: unknown option '${Object.keys(rest)[0]}'`)
  checkBool(extrapolate, 'extrapolate')
  return [extrapolate ?? false, checkDevice(device)]
}

function checkOperation(op: unknown): asserts op is Operation {
  if (typeof op !== 'string') throw new TypeError(`operation must be a string, got ${typeof op}`)
  if (!(OPERATIONS as readonly string[]).includes(op)) {
    throw new RangeError(`unknown operation '${op}'; expected one of ${OPERATIONS.join(', ')}`)
  }
}

function toBatch(c: NativeComponent): MatrixBatch<FloatArray> {
  return { batch: c.batch, rows: c.rows, cols: c.cols, data: c.data }
}

function toPrediction<P>(p: NativePrediction): P & PredictionNotes {
  const out: Record<string, MatrixBatch<FloatArray> | ComplexMatrixBatch<FloatArray>> = {}
  for (const c of p.components) {
    out[c.name] = c.im == null ? toBatch(c) : { batch: c.batch, rows: c.rows, cols: c.cols, re: c.data, im: c.im }
  }
  // Not enumerable: `Object.keys(prediction)` stays the list of components.
  Object.defineProperty(out, 'warnings', { value: Object.freeze(p.warnings), enumerable: false })
  return out as P & PredictionNotes
}

/** Notes attached to every prediction (a non-enumerable property, so the components stay the only keys). */
export interface PredictionNotes {
  /** Warnings about this prediction, e.g. parameters extrapolated outside the trained domain; empty when none. */
  readonly warnings: readonly string[]
}

/** Options of {@link NeuMatC.predict}. */
export interface PredictOptions {
  /**
   * Allow parameters outside the trained domain (default `false`: they throw an
   * {@link OutOfDomainError}). The model was never fitted there; the result's `warnings` say so —
   * verify such answers with {@link NeuMatC.check}.
   */
  extrapolate?: boolean
  /**
   * Where to compute: `'cpu'` (default), `'cuda'` or `'cuda:N'`. On a GPU the weights are uploaded
   * for the call and the result copied back. A CUDA device needs the CUDA build of the addon (see
   * {@link backend}): with the CPU build it throws a {@link DeviceUnavailableError} before any work,
   * and with the CUDA build on a machine without that GPU the engine reports the same error.
   */
  device?: string
}

/** Options of {@link NeuMatC.check}. */
export interface CheckOptions {
  /** The family that gives `A(p)` (default: the model's training family, when it carries one). */
  family?: Family
  /**
   * Estimate each residual norm with this many Gaussian probe vectors (`O(k n²)` per parameter)
   * instead of computing it exactly (`O(n³)`, the default).
   */
  probes?: number
  /** Allow parameters outside the trained domain (a warning is attached). */
  extrapolate?: boolean
}

/**
 * Per-parameter a-posteriori residuals of a model's answers (see {@link NeuMatC.check}). `residual`
 * is the operation's main structure residual; `measures` holds every measure by name:
 * inverse `residual` (`‖A Ĝ − I‖_F/√n`) and `contraction` (`‖I − A Ĝ‖₂`, refinement converges below 1);
 * solve `residual` (`‖A x − b‖/‖b‖`); svd `residual` (`(‖AV − US‖² + ‖AᵀU − VS‖²)^½/‖A‖`),
 * `reconstruction` and `orthogonality`; qr `residual` (`‖QR − A‖/‖A‖`) and `orthogonality`;
 * cholesky `residual` (`‖LLᵀ − A‖/‖A‖`); eigh `residual` (`‖AV − VΛ‖/‖A‖`) and `orthogonality`;
 * expm `residual` (the commutator `‖AE − EA‖/(‖A‖‖E‖)`, necessary but not sufficient).
 */
export interface CheckResult {
  /** Number of parameters checked. */
  batch: number
  /** The main residual, one value per parameter. */
  residual: Float64Array
  /** Every measure by name, one value per parameter. */
  measures: Record<string, Float64Array>
  /** Warnings (extrapolated parameters, ...). */
  warnings: string[]
}

/** Options of {@link NeuMatC.refine}. */
export interface RefineOptions {
  /** Target relative residual `‖b − A x‖₂ / ‖b‖₂` (default 1e-12; the floor is about cond(A)·1e-16). */
  tol?: number
  /** Most refinement iterations before falling back to the exact solver (default 30). */
  maxIter?: number
  /** The family that gives `A(p)` (default: the model's training family, when it carries one). */
  family?: Family
  /** Allow parameters outside the trained domain (a warning is attached). */
  extrapolate?: boolean
}

/** What {@link NeuMatC.refine} returns. */
export interface RefineResult {
  /** The solutions, (batch, n, 1), f64. */
  x: MatrixBatch<Float64Array>
  /** Refinement iterations used per parameter. */
  iterations: Uint32Array
  /** Final relative residual `‖b − A x‖₂ / ‖b‖₂` per parameter. */
  residual: Float64Array
  /**
   * Per parameter, whether the exact solver was used instead: the learned inverse was not a
   * contraction there (`‖I − AĜ‖ ≥ 1`) or `tol` was not reached within `maxIter`.
   */
  fellBack: boolean[]
  /** Warnings (extrapolated parameters, ...). */
  warnings: string[]
}

/** The metadata of a model file (see {@link NeuMatC.readInfo}): format, operation, shapes, family, report, ... */
export type ModelMetadata = Record<string, unknown> & {
  /** Version of the model file format. */
  formatVersion: number
  /** The learned operation. */
  operation: Operation
  /** The training report. */
  report: TrainReport
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${what}: path must be a non-empty string`)
}

function checkBool(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`)
}

function checkOptionsObject(o: unknown, what: string): void {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${what}: options must be an object`)
}

function familyOption(family: unknown): Family | undefined {
  if (family !== undefined && !(family instanceof Family)) throw new TypeError('family must be a Family')
  return family
}

function toCheck(c: NativeCheck): CheckResult {
  const measures: Record<string, Float64Array> = {}
  c.names.forEach((name, i) => {
    measures[name] = c.values[i]
  })
  return { batch: c.batch, residual: measures.residual, measures, warnings: c.warnings }
}

function toRefined(r: NativeRefined): RefineResult {
  return {
    x: { batch: r.batch, rows: r.n, cols: 1, data: r.x },
    iterations: r.iterations,
    residual: r.residual,
    fellBack: r.fellBack,
    warnings: r.warnings,
  }
}

/**
 * A trained NeuMatC model: read-only, answers any batch of parameters in its domain.
 *
 * @example
 * ```ts
 * const model = await NeuMatC.train(fam, 'inverse', { seed: 1, onProgress: (e) => log(e.step) })
 * const { inverse } = await model.predict(Float64Array.of(0.33, 0.71))
 * ```
 */
export class NeuMatC<Op extends Operation = Operation, F extends Field = 'real'> {
  /** The engine's model. @internal */
  readonly native: NativeModel
  #report?: TrainReport
  #domain?: Domain
  #spec?: OpSpec

  /** @internal */
  private constructor(native: NativeModel) {
    this.native = native
  }

  /**
   * Trains a model of `op` on `family`. Training runs on its own thread; the JavaScript thread
   * stays free (progress events arrive as ordinary callbacks).
   *
   * @param family - the matrix family
   * @example
   * ```ts
   * const svd = await NeuMatC.train(fam, 'svd', { rank: 8, seed: 1 })
   * const { U, S, V } = await svd.predict(Float64Array.of(0.4))
   * const solve = await NeuMatC.train(fam, 'solve', { rhs: b, seed: 1 })   // x(p) = A(p)⁻¹ b
   * ```
   *
   * @param op - the operation to learn: `'inverse'`, `'solve'` (needs `options.rhs`), `'svd'`
   *   (optionally `options.rank`), `'qr'`, `'cholesky'` and `'eigh'` (symmetric positive definite /
   *   symmetric families) or `'expm'`
   * @param options - hyper-parameters (all optional), `rank`, `rhs`, `onProgress` and `signal`
   * @returns the trained model
   * @throws TypeError/RangeError for malformed arguments (thrown as a rejection)
   * @throws CancelledError when `signal` aborts (immediately for an already-aborted signal)
   * @throws InvalidOptionError (e.g. `'solve'` without `rhs`, a `rank` above `min(m, n)`),
   *   ShapeMismatchError (e.g. a non-square family for `'inverse'`), NotPositiveDefiniteError,
   *   DeviceUnavailableError, ... as reported by the engine
   */
  static async train<Op extends ComplexOperation>(family: ComplexFamily, op: Op, options?: TrainOptions): Promise<NeuMatC<Op, 'complex'>>
  static async train<Op extends Operation>(family: Family, op: Op, options?: TrainOptions): Promise<NeuMatC<Op>>
  static async train<Op extends Operation>(family: Family, op: Op, options: TrainOptions = {}): Promise<NeuMatC<Op, Field>> {
    if (!(family instanceof Family)) throw new TypeError('train: family must be a Family')
    checkOperation(op)
    const json = optionsJson(options)
    const { onProgress, signal } = options
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('onProgress must be a function')
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal')
    if (signal?.aborted) throw new CancelledError('training aborted before it started', { cause: signal.reason })

    const token = new CancelToken()
    let settled = false
    let callbackError: { error: unknown } | undefined
    const progress = onProgress
      ? (event: string) => {
          if (settled || callbackError) return
          try {
            onProgress(JSON.parse(event) as Progress)
          } catch (error) {
            // A throwing callback stops the training; the promise rejects with its error.
            callbackError = { error }
            token.cancel()
          }
        }
      : undefined
    const abort = () => token.cancel()
    signal?.addEventListener('abort', abort, { once: true })
    try {
      const native = await nativeTrain(family.native, op, json, progress, token)
      return new NeuMatC<Op, Field>(native)
    } catch (e) {
      if (callbackError) throw callbackError.error
      const err = fromNative(e)
      if (err instanceof CancelledError && signal?.aborted) {
        throw new CancelledError('training aborted', { cause: signal.reason ?? e })
      }
      throw err
    } finally {
      settled = true
      signal?.removeEventListener('abort', abort)
    }
  }

  /** What the model computes: the operation, the shape of `A(p)`, the SVD rank, the right-hand side of `'solve'`. */
  get spec(): OpSpec {
    this.#spec ??= Object.freeze(JSON.parse(callNative(() => this.native.spec)) as OpSpec)
    return this.#spec
  }

  /** The training report: seconds, steps, losses, held-out error, ... */
  get report(): TrainReport {
    this.#report ??= Object.freeze(JSON.parse(callNative(() => this.native.report)) as TrainReport)
    return this.#report
  }

  /** The operation the model computes. */
  get operation(): Op {
    return this.native.operation as Op
  }

  /** Length `k` of one parameter vector. */
  get paramDim(): number {
    return this.native.paramDim
  }

  /** Element type of predictions: `'f32'` → `Float32Array`, `'f64'` → `Float64Array`. */
  get dtype(): 'f32' | 'f64' {
    return this.native.dtype as 'f32' | 'f64'
  }

  /** Latent dimension `d`. */
  get latentDim(): number {
    return this.native.latentDim
  }

  /** The device the model was trained on (`'cpu'`, `'cuda:N'`). */
  get device(): string {
    return this.native.device
  }

  /** The parameter box the model was trained on. */
  get domain(): Domain {
    this.#domain ??= Object.freeze(callNative(() => this.native.domain()))
    return this.#domain
  }

  /**
   * Whether the model was trained on complex matrices: its predictions are then
   * {@link ComplexMatrixBatch}es (`S` of an SVD stays real). A model from {@link NeuMatC.load} is
   * typed as real; {@link NeuMatC.asComplex} gives it the complex type.
   */
  get complex(): boolean {
    return this.native.isComplex
  }

  /** Complex right-hand sides are not supported yet: `apply` and `refine` take real models only. */
  #realOnly(what: string): void {
    if (this.complex) throw new TypeError(`${what}: not available for complex models (predict the inverse and multiply)`)
  }

  /**
   * This model typed as a complex one (`predict` typed {@link ComplexPrediction}), e.g. after
   * {@link NeuMatC.load}. The same object; no copy.
   *
   * @example
   * ```ts
   * const model = (await NeuMatC.load('mmse.neumatc')).asComplex()
   * const { inverse } = await model.predict(f)   // inverse.re, inverse.im
   * ```
   *
   * @throws TypeError if the model is not complex
   */
  asComplex(): NeuMatC<Op, 'complex'> {
    if (!this.complex) throw new TypeError('asComplex: the model was trained on real matrices')
    return this as unknown as NeuMatC<Op, 'complex'>
  }

  /**
   * Predicts every result component for a batch of parameters, off the JavaScript thread.
   * `params` is copied first.
   *
   * @param params - `batch * paramDim` finite values inside {@link NeuMatC.domain}
   * @param options - `extrapolate: true` allows parameters outside the domain (with a warning);
   *   `device` is where the prediction runs (`'cpu'` by default, `'cuda'`, `'cuda:N'`)
   * @returns e.g. `{ inverse: MatrixBatch }`, plus a non-enumerable `warnings` array; for a complex
   *   model complex components (`{ inverse: ComplexMatrixBatch }`, `{ U, S, V }` with complex `U`, `V`)
   * @throws TypeError/RangeError for a malformed `params`
   * @throws OutOfDomainError for parameters outside the domain (unless `extrapolate`)
   * @throws DeviceUnavailableError for a CUDA `device` without the CUDA build or without that GPU
   */
  async predict(params: Float64Array, options: PredictOptions = {}): Promise<PredictionOf<Op, F> & PredictionNotes> {
    checkParams(params, this.paramDim)
    const [extrapolate, device] = predictOptions(options)
    return toPrediction<PredictionOf<Op, F>>(await awaitNative(() => this.native.predict(params, extrapolate, device)))
  }

  /** Like {@link NeuMatC.predict}, on the calling thread (for tight loops and the CLI). */
  predictSync(params: Float64Array, options: PredictOptions = {}): PredictionOf<Op, F> & PredictionNotes {
    checkParams(params, this.paramDim)
    const [extrapolate, device] = predictOptions(options)
    return toPrediction<PredictionOf<Op, F>>(callNative(() => this.native.predictSync(params, extrapolate, device)))
  }

  /**
   * Verifies the model's answers at `params`: per-parameter residual norms of the operation's
   * algebraic structure (`‖A Ĝ − I‖`, reconstruction and orthogonality errors, ... — see
   * {@link CheckResult}), computed from `A(p)` without any exact solve. Runs off the JavaScript thread.
   *
   * @example
   * ```ts
   * const { residual } = await model.check(p)          // ‖A(p) Ĝ(p) − I‖_F / √n per parameter
   * ```
   *
   * @param params - `batch * paramDim` finite values inside {@link NeuMatC.domain}
   * @param options - the `family` giving `A(p)` (required for models trained with `fromSamples` and
   *   then loaded from a file), `probes`, `extrapolate`
   * @throws InvalidOptionError when no family is known, ShapeMismatchError for a family of another shape
   */
  async check(params: Float64Array, options: CheckOptions = {}): Promise<CheckResult> {
    const [family, json] = this.#checkArgs(params, options)
    return toCheck(await awaitNative(() => this.native.check(family, params, json)))
  }

  /** Like {@link NeuMatC.check}, on the calling thread. */
  checkSync(params: Float64Array, options: CheckOptions = {}): CheckResult {
    const [family, json] = this.#checkArgs(params, options)
    return toCheck(callNative(() => this.native.checkSync(family, params, json)))
  }

  #checkArgs(params: Float64Array, options: CheckOptions): [NativeFamilyArg, string] {
    checkParams(params, this.paramDim)
    checkOptionsObject(options, 'check')
    const { family, probes, extrapolate, ...rest } = options
    if (Object.keys(rest).length > 0) throw new TypeError(`check: unknown option '${Object.keys(rest)[0]}'`)
    checkNumber(probes, 'probes', true)
    checkBool(extrapolate, 'extrapolate')
    return [familyOption(family)?.native ?? null, JSON.stringify({ probes, extrapolate })]
  }

  /**
   * Solves `A(p) x = b` to a requested tolerance by iterative refinement with the learned inverse
   * as preconditioner: `x ← x + Ĝ(p)(b − A(p) x)`, `O(n²)` per iteration after `Ĝ(p)` is formed.
   * Where the learned inverse is not a contraction (`‖I − A Ĝ‖ ≥ 1`) or `tol` is not reached in
   * `maxIter` iterations, the exact solver answers instead (`fellBack`). For an `'inverse'` model
   * (any `b`); a `'solve'` model refines only its own right-hand side (its answer is checked and
   * replaced by the exact solve when above `tol`). Runs off the JavaScript thread.
   *
   * @example
   * ```ts
   * const { x, iterations, residual, fellBack } = await model.refine(p, b, { tol: 1e-12 })
   * ```
   *
   * @param params - `batch * paramDim` finite values inside {@link NeuMatC.domain}
   * @param b - `n` values (one right-hand side for every parameter) or `batch * n`
   * @param options - `tol`, `maxIter`, `family`, `extrapolate`
   */
  async refine(params: Float64Array, b: Float64Array | readonly number[], options: RefineOptions = {}): Promise<RefineResult> {
    const [family, rhs, json] = this.#refineArgs(params, b, options)
    return toRefined(await awaitNative(() => this.native.refine(family, params, rhs, json)))
  }

  /** Like {@link NeuMatC.refine}, on the calling thread. */
  refineSync(params: Float64Array, b: Float64Array | readonly number[], options: RefineOptions = {}): RefineResult {
    const [family, rhs, json] = this.#refineArgs(params, b, options)
    return toRefined(callNative(() => this.native.refineSync(family, params, rhs, json)))
  }

  #refineArgs(params: Float64Array, b: Float64Array | readonly number[], options: RefineOptions): [NativeFamilyArg, Float64Array, string] {
    this.#realOnly('refine')
    checkParams(params, this.paramDim)
    const rhs = toFloat64(b, 'b')
    checkOptionsObject(options, 'refine')
    const { family, tol, maxIter, extrapolate, ...rest } = options
    if (Object.keys(rest).length > 0) throw new TypeError(`refine: unknown option '${Object.keys(rest)[0]}'`)
    checkNumber(tol, 'tol', false)
    if (tol !== undefined && !(tol > 0)) throw new RangeError(`tol must be > 0, got ${tol}`)
    checkNumber(maxIter, 'maxIter', true)
    checkBool(extrapolate, 'extrapolate')
    return [familyOption(family)?.native ?? null, rhs, JSON.stringify({ tol, maxIter, extrapolate })]
  }

  /**
   * Saves the model to `path`: safetensors tensors plus JSON metadata (format version, operation,
   * shapes, family, hyper-parameters, training report). The write is atomic: a temporary file is
   * written, flushed to disk and renamed over `path`, so a crash leaves the old file intact.
   * Runs off the JavaScript thread.
   */
  async save(path: string): Promise<void> {
    checkPath(path, 'save')
    await awaitNative(() => this.native.save(path))
  }

  /** Like {@link NeuMatC.save}, on the calling thread. */
  saveSync(path: string): void {
    checkPath(path, 'save')
    callNative(() => this.native.saveSync(path))
  }

  /**
   * Loads a model saved by {@link NeuMatC.save}. Runs off the JavaScript thread.
   *
   * @throws FormatError for a truncated, corrupt, foreign or newer-format file (the message names
   *   the problem), NeuMatCError with code `IO` when the file cannot be read
   */
  static async load(path: string): Promise<NeuMatC> {
    checkPath(path, 'load')
    return new NeuMatC(await awaitNative(() => loadModel(path)))
  }

  /** Like {@link NeuMatC.load}, on the calling thread. */
  static loadSync(path: string): NeuMatC {
    checkPath(path, 'load')
    return new NeuMatC(callNative(() => loadModelSync(path)))
  }

  /** The metadata of a model file (what `neumatc info` prints), read without loading its tensors. */
  static readInfo(path: string): ModelMetadata {
    checkPath(path, 'readInfo')
    return JSON.parse(callNative(() => readModelMetadata(path))) as ModelMetadata
  }

  /** The metadata {@link NeuMatC.save} writes into the file. */
  get metadata(): ModelMetadata {
    return JSON.parse(callNative(() => this.native.metadata)) as ModelMetadata
  }

  /** Whether the model can evaluate `A(p)` itself for {@link NeuMatC.check} and {@link NeuMatC.refine}. */
  get hasFamily(): boolean {
    return this.native.hasFamily
  }

  /**
   * `Ĝ(p) b` for an `'inverse'` model without forming `Ĝ(p)`: the latent tensor is contracted
   * with `b` once, then each parameter costs `O(d n)` instead of `O(d n²)`. Runs off the JavaScript
   * thread; `params` and `b` are copied first.
   *
   * @example
   * ```ts
   * const x = await model.apply(Float64Array.of(0.3, 0.8), b)   // (2, n, 1): A(0.3)⁻¹b and A(0.8)⁻¹b
   * ```
   *
   * @param params - `batch * paramDim` finite values inside {@link NeuMatC.domain}
   * @param b - the right-hand side, `n` finite values shared by every parameter
   * @returns `x = Ĝ(p) b` as a (batch, n, 1) {@link MatrixBatch} in the model's dtype
   * @throws TypeError/RangeError for a malformed `params` or `b`, or a complex model
   * @throws InvalidOptionError if the model did not learn `'inverse'`
   * @throws ShapeMismatchError if `b` does not hold `n` values
   * @throws OutOfDomainError for parameters outside the domain
   */
  async apply(params: Float64Array, b: Float64Array | readonly number[]): Promise<MatrixBatch<FloatArray>> {
    this.#realOnly('apply')
    checkParams(params, this.paramDim)
    const rhs = toFloat64(b, 'b')
    return toBatch(await awaitNative(() => this.native.apply(params, rhs)))
  }

  /** Like {@link NeuMatC.apply}, on the calling thread. */
  applySync(params: Float64Array, b: Float64Array | readonly number[]): MatrixBatch<FloatArray> {
    this.#realOnly('apply')
    checkParams(params, this.paramDim)
    const rhs = toFloat64(b, 'b')
    return toBatch(callNative(() => this.native.applySync(params, rhs)))
  }
}
