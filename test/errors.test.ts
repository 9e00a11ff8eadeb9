import { describe, expect, it } from 'vitest'
import * as native from '../ts/native.js'
import { fromNative } from '../ts/errors.js'
import {
  CancelledError,
  ConvergenceError,
  DeviceUnavailableError,
  ERROR_CODES,
  Family,
  FormatError,
  IllConditionedError,
  NotPositiveDefiniteError,
  InvalidInputError,
  InvalidOptionError,
  NeuMatC,
  NeuMatCError,
  OutOfDomainError,
  OutOfMemoryError,
  ShapeMismatchError,
  SingularMatrixError,
  baselines,
  type ErrorCode,
  type MatrixBatch,
} from '../ts/index.js'

const CLASS_OF: Record<ErrorCode, typeof NeuMatCError | (new (m: string) => NeuMatCError)> = {
  SHAPE_MISMATCH: ShapeMismatchError,
  INVALID_OPTION: InvalidOptionError,
  INVALID_INPUT: InvalidInputError,
  OUT_OF_DOMAIN: OutOfDomainError,
  SINGULAR: SingularMatrixError,
  ILL_CONDITIONED: IllConditionedError,
  NOT_POSITIVE_DEFINITE: NotPositiveDefiniteError,
  NO_CONVERGENCE: ConvergenceError,
  DEVICE_UNAVAILABLE: DeviceUnavailableError,
  FORMAT: FormatError,
  OUT_OF_MEMORY: OutOfMemoryError,
  CANCELLED: CancelledError,
  IO: NeuMatCError,
  TENSOR: NeuMatCError,
  INTERNAL: NeuMatCError,
}

/** Runs a sync call and its async twin; both must fail with the same code and class. */
async function sameCode(sync: () => unknown, async_: () => Promise<unknown>): Promise<[NeuMatCError, NeuMatCError]> {
  let s: unknown
  try {
    sync()
  } catch (e) {
    s = e
  }
  let a: unknown
  try {
    await async_()
  } catch (e) {
    a = e
  }
  expect(s).toBeInstanceOf(NeuMatCError)
  expect(a).toBeInstanceOf(NeuMatCError)
  const [se, ae] = [s as NeuMatCError, a as NeuMatCError]
  expect(ae.code).toBe(se.code)
  expect(ae.constructor).toBe(se.constructor)
  // The raw native errors carry the engine code themselves: the async one was built in `reject`.
  expect((se.cause as { code?: string }).code).toBe(se.code)
  expect((ae.cause as { code?: string }).code).toBe(se.code)
  return [se, ae]
}

describe('error codes', () => {
  it('the engine and the TS layer know the same codes', () => {
    expect([...native.errorCodes()].sort()).toEqual([...ERROR_CODES].sort())
  })

  it('every engine code maps to its class, keeping the native error as cause', () => {
    for (const code of native.errorCodes()) {
      const raw = Object.assign(new Error(`boom ${code}`), { code })
      const e = fromNative(raw)
      expect(e).toBeInstanceOf(NeuMatCError)
      expect(e).toBeInstanceOf(CLASS_OF[code as ErrorCode])
      expect((e as NeuMatCError).code).toBe(code)
      expect((e as NeuMatCError).message).toBe(`boom ${code}`)
      expect((e as NeuMatCError).cause).toBe(raw)
      expect((e as Error).name).toBe(CLASS_OF[code as ErrorCode].name)
    }
  })

  it('ILL_CONDITIONED is a kind of SingularMatrixError; subclasses are NeuMatCErrors', () => {
    const e = new IllConditionedError('x')
    expect(e).toBeInstanceOf(SingularMatrixError)
    expect(e.code).toBe('ILL_CONDITIONED')
    expect(new CancelledError('c')).toBeInstanceOf(NeuMatCError)
    expect(new CancelledError('c')).toBeInstanceOf(Error)
  })

  it('leaves errors without an engine code alone', () => {
    const t = new TypeError('bad')
    expect(fromNative(t)).toBe(t)
    const other = Object.assign(new Error('x'), { code: 'ENOENT' })
    expect(fromNative(other)).toBe(other)
    expect(fromNative('str')).toBe('str')
  })
})

describe('sync and async paths report the same code', () => {
  const fam = Family.synthetic({ n: 6, rank: 2, seed: 1 })

  it('OUT_OF_DOMAIN: Family.at / atAsync', async () => {
    const [s] = await sameCode(() => fam.at(Float64Array.of(3)), () => fam.atAsync(Float64Array.of(3)))
    expect(s).toBeInstanceOf(OutOfDomainError)
  })

  it('SINGULAR: baselines.inverseSync / inverse', async () => {
    const S: MatrixBatch = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(1, 1, 1, 1) }
    const [s] = await sameCode(() => baselines.inverseSync(S), () => baselines.inverse(S))
    expect(s.code).toBe('SINGULAR')
  })

  it('SHAPE_MISMATCH: baselines.inverseSync / inverse on a non-square batch', async () => {
    const R: MatrixBatch = { batch: 1, rows: 1, cols: 2, data: Float64Array.of(1, 1) }
    const [s] = await sameCode(() => baselines.inverseSync(R), () => baselines.inverse(R))
    expect(s.code).toBe('SHAPE_MISMATCH')
  })

  it('INVALID_INPUT: baselines on NaN entries', async () => {
    const N: MatrixBatch = { batch: 1, rows: 1, cols: 1, data: Float64Array.of(Number.NaN) }
    const [s] = await sameCode(() => baselines.inverseSync(N), () => baselines.inverse(N))
    expect(s.code).toBe('INVALID_INPUT')
  })

  it('OUT_OF_DOMAIN: NeuMatC.predictSync / predict', async () => {
    const model = await NeuMatC.train(fam, 'inverse', { steps: 5, seed: 1, sampling: { supervised: 6, collocation: 6, candidates: 8 } })
    const [s] = await sameCode(() => model.predictSync(Float64Array.of(-1)), () => model.predict(Float64Array.of(-1)))
    expect(s).toBeInstanceOf(OutOfDomainError)
  })

  it('training failures reject with their code', async () => {
    await expect(NeuMatC.train(fam, 'inverse', { device: 'cuda' })).rejects.toSatisfy(
      (e) => e instanceof DeviceUnavailableError && e.code === 'DEVICE_UNAVAILABLE',
    )
    await expect(NeuMatC.train(fam, 'inverse', { bogus: 1 } as never)).rejects.toSatisfy(
      (e) => e instanceof InvalidOptionError && e.code === 'INVALID_OPTION',
    )
  })
})
