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

} from './backend.js'
import { checkBool, checkNumber, checkOptionsObject, checkPath } from './args.js'
import { CancelledError, awaitNative, callNative, fromNative } from './errors.js'
import { type ComplexFamily, Family, type Domain } from './families.js'
import { type ComplexMatrixBatch, type FloatArray, type MatrixBatch, checkParams, toFloat64 } from './matrix.js'
import { type ComplexOperation, type Field, type OpSpec, type Operation, type PredictionOf, checkOperation } from './operations.js'
import {
  type CheckOptions,
  type CheckResult,
  type ModelMetadata,
  type PredictOptions,
  type PredictionNotes,
  type Progress,
  type RefineOptions,
  type RefineResult,
  type TrainOptions,
  type TrainReport,
  trainOptionsJson,
  predictOptions,
} from './options.js'

type NativeFamilyArg = Family['native'] | null

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
    const json = trainOptionsJson(options)
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
