import * as fs from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import * as native from '../ts/native.js'
import { awaitNative, callNative } from '../ts/errors.js'
import {
  CancelledError,
  Family,
  InvalidOptionError,
  NeuMatC,
  NeuMatCError,
  OutOfDomainError,
  OutOfMemoryError,
  ShapeMismatchError,
  SingularMatrixError,
  baselines,
  metrics,
  type Progress,
} from '../ts/index.js'
import { expectRejectsCode, expectThrowsCode, uniformParams } from './helpers.js'

const QUICK = { steps: 60, seed: 1, sampling: { supervised: 12, collocation: 12, candidates: 24 } }

let fam: Family
let model: NeuMatC<'inverse'>

beforeAll(async () => {
  fam = Family.synthetic({ n: 16, rank: 3, seed: 2 })
  model = await NeuMatC.train(fam, 'inverse', { seed: 1 })
})

/** Threads of this process named like the training thread (Linux; empty elsewhere). */
function trainingThreads(): number {
  try {
    return fs.readdirSync('/proc/self/task').filter((t) => {
      try {
        return fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('neumatc-train')
      } catch {
        return false
      }
    }).length
  } catch {
    return 0
  }
}

describe('parameters outside the trained domain', () => {
  it('are an error by default, allowed with extrapolate: true and then carry a warning', async () => {
    const outside = Float64Array.of(0.5, 1.2)
    expectThrowsCode(() => model.predictSync(outside), OutOfDomainError, 'OUT_OF_DOMAIN')
    await expectRejectsCode(model.predict(outside), OutOfDomainError, 'OUT_OF_DOMAIN')
    const out = await model.predict(outside, { extrapolate: true })
    expect(out.warnings).toHaveLength(1)
    expect(out.warnings[0]).toMatch(/1 of 2 parameters lie outside the trained domain/)
    expect(Object.keys(out)).toEqual(['inverse'])
    expect(out.inverse.batch).toBe(2)
    const inside = model.predictSync(Float64Array.of(0.5))
    expect(inside.warnings).toEqual([])
    expect(() => model.predictSync(Float64Array.of(0.5), { extrapolate: 'yes' as unknown as boolean })).toThrow(TypeError)
    expect(() => model.predictSync(Float64Array.of(0.5), { bogus: true } as never)).toThrow(TypeError)
  })

  it('NaN and Inf parameters are rejected before any work', () => {
    expect(() => model.predictSync(Float64Array.of(Number.NaN))).toThrow(RangeError)
    expect(() => model.predictSync(Float64Array.of(Number.POSITIVE_INFINITY), { extrapolate: true })).toThrow(RangeError)
  })
})

describe('model.check: a-posteriori residuals', () => {
  it('inverse: residual = ‖A Ĝ − I‖_F/√n per parameter, the square root of the paper metric', async () => {
    const P = uniformParams(fam, 6, 11)
    const A = fam.at(P)
    const { inverse } = model.predictSync(P)
    const r = await model.check(P)
    expect(r.batch).toBe(6)
    expect(Object.keys(r.measures).sort()).toEqual(['contraction', 'residual'])
    for (let i = 0; i < 6; i++) {
      const Ai = { batch: 1, rows: 16, cols: 16, data: A.data.subarray(i * 256, (i + 1) * 256) }
      const Gi = { batch: 1, rows: 16, cols: 16, data: inverse.data.subarray(i * 256, (i + 1) * 256) }
      expect(r.residual[i]).toBeCloseTo(Math.sqrt(metrics.relErrInverse(Ai, Gi)), 8)
      expect(r.measures.contraction[i]).toBeLessThan(1)
      expect(r.measures.contraction[i]).toBeGreaterThanOrEqual(r.residual[i] * 0.999)
    }
    const probed = model.checkSync(P, { probes: 8 })
    for (let i = 0; i < 6; i++) {
      expect(probed.residual[i]).toBeGreaterThan(r.residual[i] / 4)
      expect(probed.residual[i]).toBeLessThan(r.residual[i] * 4)
    }
  })

  it('svd: residual, reconstruction and orthogonality, bounded by the exact truncated SVD', async () => {
    const svd = await NeuMatC.train(fam, 'svd', { ...QUICK, rank: 3 })
    const P = uniformParams(fam, 4, 3)
    const r = svd.checkSync(P)
    expect(Object.keys(r.measures).sort()).toEqual(['orthogonality', 'reconstruction', 'residual'])
    const A = fam.at(P)
    const pred = svd.predictSync(P)
    const exact = baselines.svdSync(A, { rank: 3 })
    const slice = (m: { rows: number; cols: number; data: Float64Array | Float32Array }, i: number) => {
      const len = m.rows * m.cols
      return { batch: 1, rows: m.rows, cols: m.cols, data: m.data.subarray(i * len, (i + 1) * len) }
    }
    for (let i = 0; i < 4; i++) {
      const Ai = slice(A, i) as { batch: 1; rows: number; cols: number; data: Float64Array }
      // reconstruction = ‖Û Ŝ V̂ᵀ − A‖_F/‖A‖_F, the square root of the paper's RelErr_svd at p …
      const model = Math.sqrt(metrics.relErrSvd(Ai, { U: slice(pred.U, i), S: slice(pred.S, i), V: slice(pred.V, i) }))
      expect(r.measures.reconstruction[i]).toBeCloseTo(model, 6)
      // … never below the best rank-3 approximation (Eckart–Young), and within 10 % of it (measured: 1 %).
      const floor = Math.sqrt(metrics.relErrSvd(Ai, { U: slice(exact.U, i), S: slice(exact.S, i), V: slice(exact.V, i) }))
      expect(r.measures.reconstruction[i]).toBeGreaterThanOrEqual(floor * (1 - 1e-9))
      expect(r.measures.reconstruction[i]).toBeLessThan(floor * 1.1)
    }
    // The singular-triplet residual and UᵀU − I of a 60-step model: measured median 8e-3, worst 0.13 and 0.17.
    const sorted = (v: Float64Array) => Array.from(v).sort((a, b) => a - b)
    for (const name of ['residual', 'orthogonality'] as const) {
      const v = sorted(r.measures[name])
      expect(v[1], name).toBeLessThan(0.02)
      expect(v[3], name).toBeLessThan(0.3)
    }
  })

  it('misuse: a family of another shape, bad probes, out of domain', () => {
    const other = Family.synthetic({ n: 8, rank: 2, seed: 2 })
    expectThrowsCode(() => model.checkSync(Float64Array.of(0.3), { family: other }), ShapeMismatchError, 'SHAPE_MISMATCH')
    expect(() => model.checkSync(Float64Array.of(0.3), { probes: -1 })).toThrow(RangeError)
    expectThrowsCode(() => model.checkSync(Float64Array.of(0.3), { probes: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => model.checkSync(Float64Array.of(2)), OutOfDomainError, 'OUT_OF_DOMAIN')
    // The model would extrapolate, but the built-in family knows A(p) only on its box.
    expectThrowsCode(() => model.checkSync(Float64Array.of(1.1), { extrapolate: true }), OutOfDomainError, 'OUT_OF_DOMAIN')
  })
})

describe('model.refine: LAPACK accuracy from the learned inverse', () => {
  it('reaches 1e-12 in a few O(n²) iterations and agrees with the exact solve', async () => {
    const P = uniformParams(fam, 5, 21)
    const b = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1))
    const r = await model.refine(P, b, { tol: 1e-12 })
    expect(r.x).toMatchObject({ batch: 5, rows: 16, cols: 1 })
    const exact = baselines.solveSync(fam.at(P), b)
    for (let i = 0; i < 5; i++) {
      expect(r.fellBack[i]).toBe(false)
      expect(r.iterations[i]).toBeGreaterThan(0)
      expect(r.iterations[i]).toBeLessThan(15)
      expect(r.residual[i]).toBeLessThanOrEqual(1e-12)
    }
    let worst = 0
    for (let j = 0; j < exact.data.length; j++) worst = Math.max(worst, Math.abs(r.x.data[j] - exact.data[j]))
    expect(worst).toBeLessThan(1e-9)
  })

  it('falls back to the exact solver when the tolerance cannot be reached', () => {
    const b = Float64Array.from({ length: 16 }, () => 1)
    const r = model.refineSync(Float64Array.of(0.3), b, { tol: 1e-300, maxIter: 3 })
    expect(r.fellBack).toEqual([true])
    expect(r.residual[0]).toBeLessThan(1e-13)
  })

  it('falls back where the learned inverse is not a contraction', async () => {
    // One step of the paper's plain method with d = 1: ‖I − AĜ‖₂ > 1 everywhere.
    const poor = await NeuMatC.train(fam, 'inverse', { method: 'plain', steps: 1, latentDim: 1, seed: 1, sampling: { supervised: 3, collocation: 2, candidates: 4 } })
    const P = uniformParams(fam, 4, 5)
    const check = poor.checkSync(P)
    const b = Float64Array.from({ length: 16 }, (_, i) => i % 3)
    const r = poor.refineSync(P, b)
    const exact = baselines.solveSync(fam.at(P), b)
    for (let i = 0; i < 4; i++) {
      expect(check.measures.contraction[i]).toBeGreaterThan(1)
      expect(r.fellBack[i]).toBe(true)
      expect(r.residual[i]).toBeLessThan(1e-12)
    }
    for (let j = 0; j < exact.data.length; j++) expect(r.x.data[j]).toBeCloseTo(exact.data[j], 9)
  })

  it('misuse: wrong b length, NaN, bad tol, a model of another operation', async () => {
    expectThrowsCode(() => model.refineSync(Float64Array.of(0.3), new Float64Array(5)), ShapeMismatchError, 'SHAPE_MISMATCH')
    expect(() => model.refineSync(Float64Array.of(0.3), new Float64Array(16).fill(Number.NaN))).toThrow(RangeError)
    expect(() => model.refineSync(Float64Array.of(0.3), new Float64Array(16), { tol: 0 })).toThrow(RangeError)
    const qr = await NeuMatC.train(fam, 'qr', QUICK)
    expectThrowsCode(() => qr.refineSync(Float64Array.of(0.3), new Float64Array(16)), InvalidOptionError, 'INVALID_OPTION')
  })
})

describe('conditioning before training', () => {
  it('refuses a family singular at a sample, naming p', async () => {
    // A(p) = [[1, p], [1, p]]: singular everywhere.
    const params = Float64Array.from({ length: 41 }, (_, i) => i / 40)
    const data = new Float64Array(41 * 4)
    params.forEach((p, i) => data.set([1, p, 1, p], i * 4))
    const singular = Family.fromSamples({ paramDim: 1, params, matrices: { batch: 41, rows: 2, cols: 2, data } })
    const e = await expectRejectsCode(NeuMatC.train(singular, 'inverse', QUICK), SingularMatrixError, 'SINGULAR')
    expect(e.message).toMatch(/p = \[/)
    await expect(NeuMatC.train(singular, 'solve', { ...QUICK, rhs: [1, 1] })).rejects.toBeInstanceOf(SingularMatrixError)
  })

  it('warns in the report and in a progress event when A(p) is ill-conditioned', async () => {
    // A(p) = diag(1, 1e-5 (1 + p)): condition ≈ 1e5.
    const params = Float64Array.from({ length: 41 }, (_, i) => i / 40)
    const data = new Float64Array(41 * 4)
    params.forEach((p, i) => data.set([1, 0, 0, 1e-5 * (1 + p)], i * 4))
    const ill = Family.fromSamples({ paramDim: 1, params, matrices: { batch: 41, rows: 2, cols: 2, data } })
    const messages: string[] = []
    const m = await NeuMatC.train(ill, 'inverse', { ...QUICK, onProgress: (e: Progress) => e.message && messages.push(e.message) })
    expect(m.report.conditionMax).toBeGreaterThan(9e4)
    expect(m.report.warnings.join(' ')).toMatch(/ill-conditioned/)
    expect(messages.join(' ')).toMatch(/ill-conditioned/)
  })
})

describe('faults: panics, memory, cancellation, concurrency', () => {
  it('a Rust panic becomes an INTERNAL error, sync and async; the process lives on', async () => {
    const s = expectThrowsCode(() => callNative(() => native.debugPanicSync()), NeuMatCError, 'INTERNAL')
    expect(s.message).toMatch(/deliberate panic/)
    const a = await expectRejectsCode(awaitNative(() => native.debugPanic()), NeuMatCError, 'INTERNAL')
    expect(a.message).toMatch(/deliberate panic/)
    expect(model.predictSync(Float64Array.of(0.5)).inverse.batch).toBe(1)
  })

  it('a batch larger than the machine can hold is refused before allocating', async () => {
    const big = await NeuMatC.train(Family.synthetic({ n: 64, rank: 4, seed: 1 }), 'inverse', { ...QUICK, latentDim: 4 })
    // 8M parameters × 64² f32 values is 128 GiB.
    const many = new Float64Array(8_000_000).fill(0.5)
    const e = expectThrowsCode(() => big.predictSync(many), OutOfMemoryError, 'OUT_OF_MEMORY')
    expect(e.message).toMatch(/MiB/)
    await expectRejectsCode(big.predict(many), OutOfMemoryError, 'OUT_OF_MEMORY')
    // 1000 matrices of 16384² f64 values: 2 TiB.
    const wide = Family.synthetic({ n: 16384, rank: 1 })
    expectThrowsCode(() => wide.at(new Float64Array(1000).fill(0.5)), OutOfMemoryError, 'OUT_OF_MEMORY')
  })

  it('cancellation at any phase leaves no training thread and a usable process', async () => {
    const before = trainingThreads()
    for (const delay of [0, 5, 40, 150]) {
      const controller = new AbortController()
      const pending = NeuMatC.train(Family.synthetic({ n: 48, rank: 4, seed: 9 }), 'inverse', { seed: 1, signal: controller.signal })
      setTimeout(() => controller.abort(), delay)
      await expect(pending).rejects.toBeInstanceOf(CancelledError)
    }
    // The thread ends right after the promise settles.
    for (let i = 0; i < 50 && trainingThreads() > before; i++) await new Promise((r) => setTimeout(r, 20))
    expect(trainingThreads()).toBe(before)
    expect((await NeuMatC.train(fam, 'inverse', QUICK)).latentDim).toBeGreaterThan(0)
  })

  it('dozens of predictions and trainings in flight at once: correct results, no crash, no deadlock', async () => {
    const P = uniformParams(fam, 32, 7)
    const want = Array.from(model.predictSync(P).inverse.data)
    const predictions = Array.from({ length: 48 }, () => model.predict(P))
    const checks = Array.from({ length: 8 }, () => model.check(P.subarray(0, 4)))
    const trainings = Array.from({ length: 12 }, (_, i) => NeuMatC.train(fam, 'inverse', { ...QUICK, seed: i % 3 }))
    const [preds, , models] = await Promise.all([Promise.all(predictions), Promise.all(checks), Promise.all(trainings)])
    for (const p of preds) expect(Array.from(p.inverse.data)).toEqual(want)
    // Same seed, same model: training is reproducible under concurrency.
    const a = models[0].predictSync(P).inverse.data
    const b = models[3].predictSync(P).inverse.data
    expect(Array.from(b)).toEqual(Array.from(a))
    expect(models.every((m) => m instanceof NeuMatC)).toBe(true)
  })

  it('errors from concurrent bad calls stay coded and isolated', async () => {
    const results = await Promise.allSettled([
      model.predict(Float64Array.of(0.5)),
      model.predict(Float64Array.of(7)),
      NeuMatC.load('/nonexistent/x.neumatc'),
      model.predict(Float64Array.of(0.25)),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(OutOfDomainError)
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(NeuMatCError)
  })
})
