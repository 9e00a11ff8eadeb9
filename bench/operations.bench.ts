/**
 * Whole-Node-path timings of the operations besides the inverse benchmark: NeuMatC `predict` and
 * `apply` (sync and async) and every exact baseline plus RSVD, at n = 64 for a batch of 100 and for
 * one matrix, with the error of each result printed next to it (in `beforeAll`). The `binding floor`
 * group times the same calls on a 2×2 matrix, where the numerics cost nothing: what is left is the
 * cost of crossing into Rust (sync) or of a round trip through the libuv pool (async). Compare with
 * `cargo bench -p neumatc` (`cpu_predict_n64_b100`, `cpu_lu_inverse_n64_b16`, ...) for the engine alone.
 * Run with `npm run bench` (after `npm run build`). Size: NEUMATC_BENCH_N (default 64).
 */
import { beforeAll, bench, describe } from 'vitest'
import { Family, NeuMatC, baselines, metrics, type FloatArray, type MatrixBatch } from '../ts/index.js'

const n = Number(process.env.NEUMATC_BENCH_N ?? 64)
// The Rust benches' family: rank n/8 (at least 4), seed 2; its SPD variant for cholesky and eigh.
const familyOptions = { n, rank: Math.max(4, Math.floor(n / 8)), seed: 2 }
const fam = Family.synthetic(familyOptions)
const spd = Family.synthetic({ ...familyOptions, spd: true })
const b = Float64Array.from({ length: n }, (_, i) => 1 + i / n)
const rank = 20
// Longer than tinybench's default 500 ms: the batch-100 calls allocate MB-sized results, and GC pauses
// otherwise dominate their means.
const opts = { time: 1000, warmupTime: 200 }

/** `batch` parameters at the midpoints of `batch` equal cells of [0, 1]. */
const midpoints = (batch: number) => Float64Array.from({ length: batch }, (_, i) => (i + 0.5) / batch)
const sizes = [100, 1].map((batch) => {
  const P = midpoints(batch)
  return { batch, P, A: fam.at(P), S: spd.at(P) }
})
const tiny = { batch: 1, rows: 2, cols: 2, data: Float64Array.of(2, 1, 1, 3) }

let model: NeuMatC<'inverse'>

const e = (x: number) => x.toExponential(2)

beforeAll(async () => {
  model = await NeuMatC.train(fam, 'inverse', { seed: 1 })
  console.log(`n=${n}: model trained in ${model.report.seconds.toFixed(2)} s (latent dim ${model.latentDim})`)
  for (const { batch, P, A, S } of sizes) {
    const inverse = (G: MatrixBatch<FloatArray>) => `RelErr_inv ${e(metrics.relErrInverse(A, G))}`
    const exp = baselines.expmSync(A)
    const lines = [
      `NeuMatC predict: ${inverse(model.predictSync(P).inverse)}`,
      `NeuMatC apply: ‖Ax̂ − b‖/‖b‖ ${e(metrics.relErrSolve(A, b, { x: model.applySync(P, b) }))}`,
      `LU inverse: ${inverse(baselines.inverseSync(A))}`,
      `svd rank ${rank}: RelErr_svd ${e(metrics.relErrSvd(A, baselines.svdSync(A, { rank })))} (truncation)`,
      `qr: RelErr_qr ${e(metrics.relErrQr(A, baselines.qrSync(A)))}`,
      `cholesky (SPD): RelErr_cholesky ${e(metrics.relErrCholesky(S, { L: baselines.choleskySync(S) }))}`,
      `eigh (SPD): RelErr_eigh ${e(metrics.relErrEigh(S, baselines.eighSync(S)))}`,
      `expm: RelErr_expm ${e(metrics.relErrExpm(A, { expm: exp }))} (against the engine's own expm: no other reference)`,
      `rsvd rank ${rank}: RelErr_svd ${e(metrics.relErrSvd(A, baselines.rsvdSync(A, { rank })))}`,
    ]
    console.log(`n=${n} batch=${batch}:\n  ${lines.join('\n  ')}`)
  }
})

for (const { batch, P, A, S } of sizes) {
  const what = batch === 1 ? 'one parameter' : `batch of ${batch}`
  describe(`NeuMatC, n=${n}, ${what}`, () => {
    bench('predictSync', () => {
      model.predictSync(P)
    }, opts)
    bench('predict (async)', async () => {
      await model.predict(P)
    }, opts)
    bench('applySync', () => {
      model.applySync(P, b)
    }, opts)
    bench('apply (async)', async () => {
      await model.apply(P, b)
    }, opts)
  })

  describe(`baselines, n=${n}, ${what}`, () => {
    bench('inverseSync', () => {
      baselines.inverseSync(A)
    }, opts)
    bench('inverse (async)', async () => {
      await baselines.inverse(A)
    }, opts)
    bench(`svdSync rank ${rank}`, () => {
      baselines.svdSync(A, { rank })
    }, opts)
    bench(`svd rank ${rank} (async)`, async () => {
      await baselines.svd(A, { rank })
    }, opts)
    bench('qrSync', () => {
      baselines.qrSync(A)
    }, opts)
    bench('choleskySync (SPD)', () => {
      baselines.choleskySync(S)
    }, opts)
    bench('eighSync (SPD)', () => {
      baselines.eighSync(S)
    }, opts)
    bench('expmSync', () => {
      baselines.expmSync(A)
    }, opts)
    bench(`rsvdSync rank ${rank}`, () => {
      baselines.rsvdSync(A, { rank })
    }, opts)
  })
}

describe('binding floor: inverse of one 2×2 matrix', () => {
  bench('inverseSync', () => {
    baselines.inverseSync(tiny)
  }, opts)
  bench('inverse (async)', async () => {
    await baselines.inverse(tiny)
  }, opts)
})
