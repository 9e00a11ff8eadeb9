// A learned inverse of the paper's synthetic family, compared with the exact LU inverse on a batch
// of parameters never used in training: RelErr_inv and time per matrix.
//
//   node examples/inverse.mjs                       # n = 64, batch 100, 500 steps: a few seconds
//   node examples/inverse.mjs --n 256 --steps 2000  # the README's setting (or N=256 STEPS=2000)
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { Family, NeuMatC, baselines, metrics } from 'neumatc'
import { option } from './options.cjs'

const n = option('n', 64)
const batch = option('batch', 100)
const steps = option('steps', 500)
const seed = option('seed', 1)
const maxErr = option('max-err', 1e-4)

/** Median milliseconds of `reps` calls after one warm-up, each call in its own event-loop turn. */
async function time(fn, reps = 5) {
  await fn()
  const ms = []
  for (let i = 0; i < reps; i++) {
    await nextTurn() // lets the GC hand freed result buffers back, as between requests in an app
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  return ms.sort((a, b) => a - b)[reps >> 1]
}

const family = Family.synthetic({ n, seed })
console.log(`family: synthetic n = ${n}, p in [${family.domain.lo}, ${family.domain.hi}]`)

const model = await NeuMatC.train(family, 'inverse', { seed, steps })
const r = model.report
console.log(
  `trained in ${r.seconds.toFixed(2)} s: d = ${r.latentDim}, ${r.supervised} exact solves, ` +
    `${r.collocationFinal} collocation points, held-out RelErr_inv ${r.heldOutRelErr.toExponential(2)}`,
)
for (const w of r.warnings) console.log(`warning: ${w}`)

// Parameters between the training samples: midpoints of a regular grid.
const params = Float64Array.from({ length: batch }, (_, i) => (i + 0.5) / batch)
const A = family.at(params)

const { inverse } = await model.predict(params)
const exact = await baselines.inverse(A)
const errModel = metrics.relErrInverse(A, inverse)
const errLu = metrics.relErrInverse(A, exact)

const msModel = await time(() => model.predict(params))
const msLu = await time(() => baselines.inverse(A))
console.log(`batch of ${batch} matrices ${n} x ${n}:`)
console.log(`  NeuMatC  ${(msModel / batch).toFixed(4)} ms/matrix   RelErr_inv ${errModel.toExponential(2)}   (${inverse.data.constructor.name})`)
console.log(`  LU       ${(msLu / batch).toFixed(4)} ms/matrix   RelErr_inv ${errLu.toExponential(2)}   (Float64Array)`)
console.log(`  speed-up ${(msLu / msModel).toFixed(1)}x (grows with n: ~20x at n = 256, see the README)`)

assert.ok(errModel < maxErr, `RelErr_inv ${errModel} is not below ${maxErr}`)
console.log(`ok: RelErr_inv ${errModel.toExponential(2)} < ${maxErr.toExponential()}`)
