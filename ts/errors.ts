/**
 * Errors thrown by neumatc.
 *
 * Every failure the Rust engine reports becomes a {@link NeuMatCError} with a stable
 * {@link ErrorCode}; the codes callers branch on have their own subclass. Misuse of argument
 * *types* (a `number[]` where a `Float64Array` is needed, a NaN parameter, ...) is caught in
 * TypeScript before the call reaches Rust and throws a plain `TypeError` or `RangeError`.
 *
 * @module
 */

/** Every code the engine can report (`neumatc::Error::code()` in Rust). */
export const ERROR_CODES = [
  'SHAPE_MISMATCH',
  'INVALID_OPTION',
  'INVALID_INPUT',
  'OUT_OF_DOMAIN',
  'SINGULAR',
  'NOT_POSITIVE_DEFINITE',
  'ILL_CONDITIONED',
  'NO_CONVERGENCE',
  'DEVICE_UNAVAILABLE',
  'FORMAT',
  'OUT_OF_MEMORY',
  'CANCELLED',
  'IO',
  'TENSOR',
  'INTERNAL',
] as const

/** A stable, machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** Options accepted by the error constructors. */
export interface NeuMatCErrorOptions {
  /** The underlying error (for errors from Rust: the original native error). */
  cause?: unknown
}

/**
 * Base class of every error neumatc reports. Branch on `code` or on the subclass.
 *
 * @example
 * ```ts
 * try { fam.at(Float64Array.of(2)) } catch (e) {
 *   if (e instanceof NeuMatCError && e.code === 'OUT_OF_DOMAIN') { ... }
 * }
 * ```
 */
export class NeuMatCError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode

  /**
   * @param code - the stable error code
   * @param message - a human-readable message
   * @param options - `cause`: the underlying error
   */
  constructor(code: ErrorCode, message: string, options?: NeuMatCErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A matrix or buffer does not have the shape the call needs (code `SHAPE_MISMATCH`). */
export class ShapeMismatchError extends NeuMatCError {
  /** @param message - what was expected and what was given */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('SHAPE_MISMATCH', message, options)
  }
}

/** A matrix is singular to working precision (code `SINGULAR`). */
export class SingularMatrixError extends NeuMatCError {
  /**
   * @param message - which operation and which parameter
   * @param code - `SINGULAR` (default) or, for {@link IllConditionedError}, `ILL_CONDITIONED`
   */
  constructor(message: string, options?: NeuMatCErrorOptions, code: 'SINGULAR' | 'ILL_CONDITIONED' = 'SINGULAR') {
    super(code, message, options)
  }
}

/**
 * A matrix is so ill-conditioned that the operation cannot be trusted (code `ILL_CONDITIONED`).
 * A subclass of {@link SingularMatrixError}, so one `instanceof` check catches both.
 */
export class IllConditionedError extends SingularMatrixError {
  /** @param message - which operation, which parameter and the condition estimate */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super(message, options, 'ILL_CONDITIONED')
  }
}

/**
 * The operation needs a symmetric positive definite matrix (Cholesky) and `A(p)` is not one
 * (code `NOT_POSITIVE_DEFINITE`).
 */
export class NotPositiveDefiniteError extends NeuMatCError {
  /** @param message - which operation and which parameter */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('NOT_POSITIVE_DEFINITE', message, options)
  }
}

/** An iterative method did not converge (code `NO_CONVERGENCE`). */
export class ConvergenceError extends NeuMatCError {
  /** @param message - which method and after how many iterations */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('NO_CONVERGENCE', message, options)
  }
}

/** A device (CUDA) was asked for but is not available (code `DEVICE_UNAVAILABLE`). */
export class DeviceUnavailableError extends NeuMatCError {
  /** @param message - which device */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('DEVICE_UNAVAILABLE', message, options)
  }
}

/** A parameter lies outside the domain of the family or model (code `OUT_OF_DOMAIN`). */
export class OutOfDomainError extends NeuMatCError {
  /** @param message - the offending parameter and the domain */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('OUT_OF_DOMAIN', message, options)
  }
}

/** The work was cancelled, e.g. through an `AbortSignal` (code `CANCELLED`). */
export class CancelledError extends NeuMatCError {
  /** @param message - what was cancelled */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('CANCELLED', message, options)
  }
}

/** Input data is unusable: NaN/Inf values, inconsistent lengths (code `INVALID_INPUT`). */
export class InvalidInputError extends NeuMatCError {
  /** @param message - what is wrong with the input */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('INVALID_INPUT', message, options)
  }
}

/** An option is out of range or inconsistent with the others (code `INVALID_OPTION`). */
export class InvalidOptionError extends NeuMatCError {
  /** @param message - which option and why */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('INVALID_OPTION', message, options)
  }
}

/**
 * A model file is truncated, corrupt, foreign or from a newer format version (code `FORMAT`). The
 * message names the file and the problem.
 */
export class FormatError extends NeuMatCError {
  /** @param message - which file and what is wrong with it */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('FORMAT', message, options)
  }
}

/**
 * The work would need more memory than the machine has available (code `OUT_OF_MEMORY`): refused
 * before allocating, so the process survives. Use a smaller batch or matrix.
 */
export class OutOfMemoryError extends NeuMatCError {
  /** @param message - what needed how much memory */
  constructor(message: string, options?: NeuMatCErrorOptions) {
    super('OUT_OF_MEMORY', message, options)
  }
}

type Ctor = new (message: string, options?: NeuMatCErrorOptions) => NeuMatCError

const CLASS_OF: Partial<Record<ErrorCode, Ctor>> = {
  SHAPE_MISMATCH: ShapeMismatchError,
  INVALID_OPTION: InvalidOptionError,
  INVALID_INPUT: InvalidInputError,
  OUT_OF_DOMAIN: OutOfDomainError,
  SINGULAR: SingularMatrixError,
  ILL_CONDITIONED: IllConditionedError,
  NOT_POSITIVE_DEFINITE: NotPositiveDefiniteError,
  NO_CONVERGENCE: ConvergenceError,
  DEVICE_UNAVAILABLE: DeviceUnavailableError,
  CANCELLED: CancelledError,
  FORMAT: FormatError,
  OUT_OF_MEMORY: OutOfMemoryError,
}

/** Whether `code` is one of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)
}

/**
 * Converts an error thrown by the native addon into the matching {@link NeuMatCError}
 * subclass, keeping the original as `cause`; napi's `GenericFailure` (a Rust panic caught at the
 * boundary) becomes code `INTERNAL`. Values that carry no engine code (a `TypeError`
 * from argument checks, a non-error) are returned unchanged.
 *
 * @param e - whatever the native call threw or rejected with
 * @returns the typed error, or `e` itself
 */
export function fromNative(e: unknown): unknown {
  if (e instanceof NeuMatCError) return e
  if (!(e instanceof Error)) return e
  let code = (e as { code?: unknown }).code
  // napi-rs reports a Rust panic caught at the boundary (`catch_unwind`) as `GenericFailure`.
  if (code === 'GenericFailure') code = 'INTERNAL'
  if (!isErrorCode(code)) return e
  const Class = CLASS_OF[code]
  return Class ? new Class(e.message, { cause: e }) : new NeuMatCError(code, e.message, { cause: e })
}

/**
 * Runs a synchronous native call, rethrowing its errors as {@link NeuMatCError}s.
 * @internal
 */
export function callNative<T>(call: () => T): T {
  try {
    return call()
  } catch (e) {
    throw fromNative(e)
  }
}

/**
 * Awaits an asynchronous native call, rethrowing its errors as {@link NeuMatCError}s.
 * @internal
 */
export async function awaitNative<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (e) {
    throw fromNative(e)
  }
}
