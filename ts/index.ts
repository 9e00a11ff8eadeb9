/**
 * neumatc — fast parametric matrix operations for Node.js, learned NeuMatC-style
 * (latent tensor `C` times a sine MLP `Φ(p)`) and computed in Rust.
 *
 * @example
 * ```ts
 * import { Family, NeuMatC, baselines, metrics } from 'neumatc'
 * const fam = Family.synthetic({ n: 64, rank: 8, seed: 3 })
 * const model = await NeuMatC.train(fam, 'inverse', { seed: 1 })
 * const p = Float64Array.of(0.3, 0.8)
 * const { inverse } = await model.predict(p)
 * console.log(metrics.relErrInverse(fam.at(p), inverse))
 * ```
 *
 * @packageDocumentation
 */
export { AdrFamily, ComplexFamily, Family } from './families.js'
export type { AdrOptions, CdlArrayOptions, CdlOptions, ComplexSamplesOptions, Domain, SamplesOptions, SyntheticOptions } from './families.js'
export type { ControlledRankOptions, SpdFourierOptions } from './families.js'
export { NeuMatC } from './model.js'
export { OPERATIONS } from './operations.js'
export type {
  ComplexComponentKinds,
  ComplexOperation,
  ComplexPrediction,
  ComponentNames,
  Components,
  Field,
  OpSpec,
  Operation,
  Prediction,
  PredictionOf,
} from './operations.js'
export type {
  CheckOptions,
  CheckResult,
  ModelMetadata,
  PredictOptions,
  PredictionNotes,
  Progress,
  RefineOptions,
  RefineResult,
  SamplingOptions,
  TrainOptions,
  TrainReport,
} from './options.js'
export { backend } from './backend.js'
export type { BackendInfo } from './backend.js'
export { isComplexBatch, matrixAt, matrixBatch } from './matrix.js'
export type { ComplexMatrixBatch, FloatArray, InterleavedComplexMatrixBatch, MatrixBatch } from './matrix.js'
export {
  CancelledError,
  ConvergenceError,
  DeviceUnavailableError,
  ERROR_CODES,
  FormatError,
  OutOfMemoryError,
  IllConditionedError,
  NotPositiveDefiniteError,
  InvalidInputError,
  InvalidOptionError,
  NeuMatCError,
  OutOfDomainError,
  ShapeMismatchError,
  SingularMatrixError,
} from './errors.js'
export type { ErrorCode, NeuMatCErrorOptions } from './errors.js'
export { Coi } from './baselines.js'
export type {
  CoiOptions,
  ComplexSvdResult,
  EighResult,
  KrylovOptions,
  KrylovResult,
  NewtonSchulzOptions,
  NewtonSchulzResult,
  QrResult,
  RsvdOptions,
  SvdOptions,
  SvdResult,
  ZnnOptions,
} from './baselines.js'
export type { ComplexSvdComponents, RelErrOptions } from './metrics.js'
/**
 * The baselines: exact pointwise (LU inverse, solve, SVD, QR, Cholesky, eigh, expm; inverse and SVD also complex),
 * randomized SVDs, NNI, COI, ZNNI, and the sparse ones (sparse LU, GMRES + ILU(0)).
 */
export * as baselines from './baselines.js'
/** The paper's error metrics for every operation. */
export * as metrics from './metrics.js'
