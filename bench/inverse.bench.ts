/**
 * Whole-Node-path timings of A(p)^-1 for a batch of held-out parameters: NeuMatC predict (sync
 * and async) against the exact LU baseline, with RelErr_inv printed next to each.
 * Run with `npm run bench` (after `npm run build`). Sizes: NEUMATC_BENCH_N (default 64), NEUMATC_BENCH_BATCH (default 100).
 */
import { beforeAll, bench, describe } from 'vitest'
import { Family, NeuMatC, baselines, metrics, type MatrixBatch } from '../ts/index.js'

const n = Number(process.env.NEUMATC_BENCH_N ?? 64)
const batch = Number(process.env.NEUMATC_BENCH_BATCH ?? 100)

// The Rust benches' family (rank n/8, seed 2): well conditioned on [0, 1] (seed 7 at n = 64 is not, and its model reached 1e-2).
const fam = Family.synthetic({ n, rank: Math.max(4, Math.floor(n / 8)), seed: 2 })
const P = Float64Array.from({ length: batch }, (_, i) => (i + 0.5) / batch)
const one = P.subarray(0, 1)
const A = fam.at(P)
const A1 = fam.at(one)
let model: NeuMatC<'inverse'>

beforeAll(async () => {
  model = await NeuMatC.train(fam, 'inverse', { seed: 1 })
  const err = (G: MatrixBatch<Float32Array | Float64Array>) => metrics.relErrInverse(A, G).toExponential(2)
  console.log(
    `n=${n} batch=${batch}: trained in ${model.report.seconds.toFixed(2)} s (latent dim ${model.latentDim}); ` +
      `RelErr_inv NeuMatC ${err(model.predictSync(P).inverse)}, LU ${err(baselines.inverseSync(A))}`,
  )
})

describe(`inverse, n=${n}, batch of ${batch}`, () => {
  bench('NeuMatC predictSync', () => {
    model.predictSync(P)
  })
  bench('NeuMatC predict (async)', async () => {
    await model.predict(P)
  })
  bench('LU inverseSync', () => {
    baselines.inverseSync(A)
  })
})

describe(`inverse, n=${n}, one parameter`, () => {
  bench('NeuMatC predictSync', () => {
    model.predictSync(one)
  })
  bench('LU inverseSync', () => {
    baselines.inverseSync(A1)
  })
})
