/**
 * The options and result records of training, prediction, checks and refinement, and their
 * argument checks (plain `TypeError`/`RangeError` before anything crosses into Rust).
 *
 * @module
 */
import { checkBool, checkNumber, checkOptionsObject, checkString } from './args.js'
import { checkDevice } from './backend.js'
import type { MatrixBatch } from './matrix.js'
import { toFloat64 } from './matrix.js'
import type { Family } from './families.js'
import type { Operation } from './operations.js'

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

/** Type checks of the options, then the JSON the engine reads (`TrainConfig::from_json`). */
export function trainOptionsJson(options: TrainOptions): string {
  checkOptionsObject(options, 'train')
  const { onProgress: _p, signal: _s, ...rest } = options
  for (const key of NUMBER_OPTIONS) checkNumber(rest[key], key, INTEGER_OPTIONS.has(key))
  for (const key of STRING_OPTIONS) checkString(rest[key], key)
  checkDevice(rest.device)
  if (rest.hidden !== undefined) {
    if (!Array.isArray(rest.hidden)) throw new TypeError('hidden must be an array of layer widths')
    rest.hidden.forEach((w, i) => checkNumber(w, `hidden[${i}]`, true))
  }
  if (rest.sampling !== undefined) {
    checkOptionsObject(rest.sampling, 'sampling')
    for (const key of SAMPLING_NUMBERS) checkNumber(rest.sampling[key], `sampling.${key}`, SAMPLING_INTEGERS.has(key))
    checkString(rest.sampling.strategy, 'sampling.strategy')
  }
  // A typed array would serialise as an object; the engine reads a plain array.
  const rhs = rest.rhs === undefined ? undefined : Array.from(toFloat64(rest.rhs, 'rhs'))
  return JSON.stringify({ ...rest, rhs })
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

/** @internal */
export function predictOptions(options: PredictOptions): [extrapolate: boolean, device: string | undefined] {
  checkOptionsObject(options, 'predict')
  const { extrapolate, device, ...rest } = options
  if (Object.keys(rest).length > 0) throw new TypeError(`predict: unknown option '${Object.keys(rest)[0]}'`)
  checkBool(extrapolate, 'extrapolate')
  return [extrapolate ?? false, checkDevice(device)]
}

