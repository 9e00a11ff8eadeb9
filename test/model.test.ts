import { describe, expect, it } from 'vitest'
import {
  CancelledError,
  Family,
  InvalidOptionError,
  NeuMatC,
  OutOfDomainError,
  ShapeMismatchError,
  metrics,
  type Progress,
  type TrainOptions,
} from '../ts/index.js'
import { expectRejectsCode, expectThrowsCode, rng, uniformParams } from './helpers.js'

/** Held-out RelErr_inv budget for the small end-to-end runs below (f32 models). */
const REL_ERR_BUDGET = 1e-4

/** Options of a quick training that still learns something (used by the cancellation tests). */
const QUICK: TrainOptions = { seed: 3, steps: 200, sampling: { supervised: 12, collocation: 12, candidates: 32, addEvery: 50 } }

describe('NeuMatC.train on a synthetic family (n = 32)', () => {
  // A well-conditioned instance (cond A(p) ≈ 9…44 over the domain). Some seeds give families with
  // near-singular points (cond ~1e3+), which the engine does not learn to this budget yet.
  const fam = Family.synthetic({ n: 32, rank: 6, seed: 3 })
  let events: Progress[] = []
  let model: NeuMatC<'inverse'>
  let seconds = 0

  it('trains, reporting progress', async () => {
    const t0 = performance.now()
    model = await NeuMatC.train(fam, 'inverse', { seed: 1, onProgress: (e) => events.push(e) })
    seconds = (performance.now() - t0) / 1000
    expect(model).toBeInstanceOf(NeuMatC)
    expect(events.length).toBeGreaterThan(0)
    for (const e of events) {
      expect(typeof e.phase).toBe('string')
      expect(Number.isInteger(e.step)).toBe(true)
      expect(e.step).toBeLessThanOrEqual(e.steps)
      expect(Number.isFinite(e.elapsed)).toBe(true)
    }
    // Steps never go backwards; elapsed time neither.
    for (let i = 1; i < events.length; i++) {
      expect(events[i].step).toBeGreaterThanOrEqual(events[i - 1].step)
      expect(events[i].elapsed).toBeGreaterThanOrEqual(events[i - 1].elapsed)
    }
    expect(new Set(events.map((e) => e.phase)).size).toBeGreaterThan(1)
    expect(seconds).toBeLessThan(60)
  })

  it('exposes its metadata and a report', () => {
    expect(model.operation).toBe('inverse')
    expect(model.paramDim).toBe(1)
    expect(model.dtype).toBe('f32')
    expect(model.device).toBe('cpu')
    expect(model.domain).toEqual({ lo: [0], hi: [1] })
    expect(model.latentDim).toBeGreaterThan(0)
    const r = model.report
    expect(r.latentDim).toBe(model.latentDim)
    expect(r.seconds).toBeGreaterThan(0)
    expect(r.seconds).toBeLessThanOrEqual(seconds + 0.5)
    expect(r.supervised).toBeGreaterThan(0)
    expect(r.conditionMax).toBeGreaterThanOrEqual(r.conditionMin)
    expect(r.conditionMin).toBeGreaterThanOrEqual(1)
    expect(r.heldOutRelErr).not.toBeNull()
    expect(r.heldOutRelErr as number).toBeLessThan(REL_ERR_BUDGET)
    expect(Object.isFrozen(r)).toBe(true)
  })

  it(`reaches RelErr_inv < ${REL_ERR_BUDGET} on held-out parameters`, async () => {
    const P = uniformParams(fam, 50, 12345)
    const { inverse } = await model.predict(P)
    expect(inverse).toMatchObject({ batch: 50, rows: 32, cols: 32 })
    expect(inverse.data).toBeInstanceOf(Float32Array)
    expect(inverse.data.length).toBe(50 * 32 * 32)
    const err = metrics.relErrInverse(fam.at(P), inverse)
    expect(err).toBeLessThan(REL_ERR_BUDGET)
    // A wrong answer must score badly: the metric is not trivially small.
    const shuffled = await model.predict(P.slice().reverse())
    expect(metrics.relErrInverse(fam.at(P), shuffled.inverse)).toBeGreaterThan(100 * err)
  })

  it('predictSync equals predict; a batch equals its single predictions', async () => {
    const P = Float64Array.of(0.1, 0.6, 0.95)
    const a = model.predictSync(P)
    const b = await model.predict(P)
    expect(Object.keys(a)).toEqual(['inverse'])
    expect(Array.from(a.inverse.data)).toEqual(Array.from(b.inverse.data))
    const single = model.predictSync(Float64Array.of(0.6)).inverse.data
    const mid = a.inverse.data.subarray(1024, 2048)
    for (let i = 0; i < 1024; i++) expect(single[i]).toBeCloseTo(mid[i], 5)
  })

  it('recycled result buffers never change a result JS still holds', async () => {
    // Buffers freed by the GC go back to the addon and are reused by later calls of the same size:
    // results held by JS must stay intact, and results written into recycled memory must be right.
    const p = uniformParams(fam, 16, 11)
    const first = model.predictSync(p).inverse.data.slice()
    const held = model.predictSync(p).inverse.data
    for (let round = 0; round < 20; round++) {
      // Enough same-sized garbage (200 × 64 KiB per round) for V8's external-memory pressure to run the GC.
      const garbage = Array.from({ length: 200 }, () => model.predictSync(uniformParams(fam, 16, 100 + round)))
      expect(garbage[199].inverse.data.length).toBe(16 * 32 * 32)
      await new Promise((resolve) => setImmediate(resolve))
      expect(model.predictSync(p).inverse.data).toEqual(first)
    }
    expect(held).toEqual(first)
  })

  it('rejects malformed parameters, sync and async', async () => {
    expect(() => model.predictSync([0.5] as unknown as Float64Array)).toThrow(TypeError)
    expect(() => model.predictSync(new Float64Array(0))).toThrow(RangeError)
    expect(() => model.predictSync(Float64Array.of(Number.NaN))).toThrow(RangeError)
    await expect(model.predict(Float64Array.of(Number.POSITIVE_INFINITY))).rejects.toThrow(RangeError)
    expectThrowsCode(() => model.predictSync(Float64Array.of(0.5, 1.01)), OutOfDomainError, 'OUT_OF_DOMAIN')
    await expectRejectsCode(model.predict(Float64Array.of(-0.2)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })

  it('trains f64 models that predict Float64Array', async () => {
    const m64 = await NeuMatC.train(Family.synthetic({ n: 8, rank: 2, seed: 2 }), 'inverse', { ...QUICK, dtype: 'f64' })
    expect(m64.dtype).toBe('f64')
    expect(m64.predictSync(Float64Array.of(0.5)).inverse.data).toBeInstanceOf(Float64Array)
  })
})

describe('NeuMatC.train arguments', () => {
  const fam = Family.synthetic({ n: 6, rank: 2, seed: 4 })

  it('checks types in TS', async () => {
    await expect(NeuMatC.train({} as Family, 'inverse')).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(fam, 42 as unknown as 'inverse')).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'invert' as 'inverse')).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(fam, 'inverse', { steps: 'many' as unknown as number })).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'inverse', { steps: -1 })).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(fam, 'inverse', { steps: 1.5 })).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(fam, 'inverse', { lambda: Number.NaN })).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(fam, 'inverse', { hidden: 64 as unknown as number[] })).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'inverse', { sampling: { supervised: 2.5 } })).rejects.toThrow(RangeError)
    await expect(NeuMatC.train(fam, 'inverse', { onProgress: 1 as unknown as () => void })).rejects.toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'inverse', { signal: {} as AbortSignal })).rejects.toThrow(TypeError)
  })

  it('reports values the engine rejects as InvalidOptionError', async () => {
    await expectRejectsCode(NeuMatC.train(fam, 'inverse', { omega: -1 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(NeuMatC.train(fam, 'inverse', { sampling: { supervised: 1 } }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(NeuMatC.train(fam, 'inverse', { activation: 'swish' as 'sine' }), InvalidOptionError, 'INVALID_OPTION')
    // Options that contradict the operation or the family.
    await expectRejectsCode(NeuMatC.train(fam, 'svd', { rank: fam.rows + 1 }), InvalidOptionError, 'INVALID_OPTION')
    await expectRejectsCode(NeuMatC.train(fam, 'solve'), InvalidOptionError, 'INVALID_OPTION')
  })

  it('refuses to train an inverse on non-square samples', async () => {
    const rect = Family.fromSamples({
      paramDim: 1,
      params: Float64Array.of(0, 0.5, 1),
      matrices: { batch: 3, rows: 2, cols: 3, data: Float64Array.from({ length: 18 }, (_, i) => i % 5) },
    })
    await expectRejectsCode(NeuMatC.train(rect, 'inverse', QUICK), ShapeMismatchError, 'SHAPE_MISMATCH')
  })
})

describe('cancellation and responsiveness', () => {
  const fam = Family.synthetic({ n: 16, rank: 4, seed: 9 })

  it('an already-aborted signal rejects immediately, without training', async () => {
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    const events: Progress[] = []
    const t0 = performance.now()
    const err = await expectRejectsCode(
      NeuMatC.train(fam, 'inverse', { ...QUICK, signal: controller.signal, onProgress: (e) => events.push(e) }),
      CancelledError,
      'CANCELLED',
    )
    expect(performance.now() - t0).toBeLessThan(100)
    expect(events).toHaveLength(0)
    expect((err.cause as Error).message).toBe('stop')
  })

  it('aborting after the first progress event rejects with CancelledError; training again works', async () => {
    const controller = new AbortController()
    let events = 0
    const err = await expectRejectsCode(
      NeuMatC.train(fam, 'inverse', {
        seed: 1,
        steps: 1_000_000,
        signal: controller.signal,
        onProgress: () => {
          events++
          controller.abort()
        },
      }),
      CancelledError,
      'CANCELLED',
    )
    expect(events).toBeGreaterThanOrEqual(1)
    expect(err.message).toMatch(/abort|cancel/i)
    // The process is still usable: the same family trains to completion afterwards.
    const again = await NeuMatC.train(fam, 'inverse', QUICK)
    expect(again.predictSync(Float64Array.of(0.5)).inverse.data.length).toBe(256)
  })

  it('a throwing onProgress stops training and rejects with its error', async () => {
    const boom = new Error('callback failed')
    await expect(
      NeuMatC.train(fam, 'inverse', {
        ...QUICK,
        steps: 1_000_000,
        onProgress: () => {
          throw boom
        },
      }),
    ).rejects.toBe(boom)
  })

  it('keeps the event loop responsive while training', async () => {
    const ticks: number[] = []
    const timer = setInterval(() => ticks.push(performance.now()), 10)
    const t0 = performance.now()
    try {
      await NeuMatC.train(fam, 'inverse', { seed: 2, steps: 3000, sampling: { supervised: 16, collocation: 24, candidates: 64 } })
    } finally {
      clearInterval(timer)
    }
    const ms = performance.now() - t0
    expect(ms).toBeGreaterThan(200) // long enough for the check to mean something
    expect(ticks.length).toBeGreaterThan(ms / 10 / 4)
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i])
    expect(Math.max(...gaps)).toBeLessThan(250)
  })
})

describe('NeuMatC.train on fromSamples families', () => {
  it('1-D: learns from a grid and serves any p in the domain', async () => {
    const source = Family.synthetic({ n: 16, rank: 4, seed: 3 }) // cond A(p) ≈ 5…15
    const grid = Float64Array.from({ length: 101 }, (_, i) => i / 100)
    const fam = Family.fromSamples({ paramDim: 1, params: grid, matrices: source.at(grid) })
    const model = await NeuMatC.train(fam, 'inverse', { seed: 5 })
    // On grid points (most were never solved exactly).
    const onGrid = grid.filter((_, i) => i % 7 === 3)
    const errGrid = metrics.relErrInverse(fam.at(onGrid), (await model.predict(onGrid)).inverse)
    expect(errGrid).toBeLessThan(REL_ERR_BUDGET)
    // Between grid points, checked against the generating family.
    const off = uniformParams(source, 20, 77)
    const errOff = metrics.relErrInverse(source.at(off), model.predictSync(off).inverse)
    expect(errOff).toBeLessThan(10 * REL_ERR_BUDGET)
  })

  it('2-D: learns a two-parameter family', async () => {
    // A(p1, p2) = 3n·I + M0 + sin(π p1) M1 + cos(π p2) M2 + p1 p2 M3, on a 15×15 grid of [0,1]².
    const n = 8
    const next = rng(99)
    const M = Array.from({ length: 4 }, () => Float64Array.from({ length: n * n }, () => next() - 0.5))
    const side = 15
    const params = new Float64Array(side * side * 2)
    const data = new Float64Array(side * side * n * n)
    for (let a = 0; a < side; a++)
      for (let b = 0; b < side; b++) {
        const s = a * side + b
        const [p1, p2] = [a / (side - 1), b / (side - 1)]
        params.set([p1, p2], 2 * s)
        const c = [1, Math.sin(Math.PI * p1), Math.cos(Math.PI * p2), p1 * p2]
        for (let e = 0; e < n * n; e++) {
          data[s * n * n + e] = (e % (n + 1) === 0 ? 3 * n : 0) + c.reduce((acc, ck, k) => acc + ck * M[k][e], 0)
        }
      }
    const fam = Family.fromSamples({ paramDim: 2, params, matrices: { batch: side * side, rows: n, cols: n, data } })
    expect(fam.domain).toEqual({ lo: [0, 0], hi: [1, 1] })
    const model = await NeuMatC.train(fam, 'inverse', { seed: 8 })
    expect(model.paramDim).toBe(2)
    const test = params.filter((_, i) => Math.floor(i / 2) % 5 === 2)
    const err = metrics.relErrInverse(fam.at(test), (await model.predict(test)).inverse)
    expect(err).toBeLessThan(REL_ERR_BUDGET)
  })
})
