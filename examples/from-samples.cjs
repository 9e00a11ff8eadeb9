// Your own matrices: a 1-D family A(p) = A0 + cos(2πp) A1 + sin(2πp) A2 built in JavaScript on a
// grid of 101 parameters. Every 5th interior grid point is held back (never shown to neumatc);
// the model trains on the rest and is evaluated at the held-back points.
//
//   node examples/from-samples.cjs            # n = 32: about a second
//   node examples/from-samples.cjs --n 128    # or N=128
'use strict'
const assert = require('node:assert/strict')
const { Family, NeuMatC, metrics } = require('neumatc')
const { option } = require('./options.cjs')

const n = option('n', 32)
const gridSize = option('grid', 101)
const steps = option('steps', 500)
const seed = option('seed', 1)
const maxErr = option('max-err', 1e-5)

/** Seeded uniform numbers in [0, 1) (mulberry32), then standard normals by Box–Muller. */
function normals(seed) {
  let a = seed >>> 0
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())
}

// A0 = 2I + E0, A1 = E1, A2 = E2 with Gaussian E_i of spectral norm ~0.4: every A(p) has its
// singular values in about [1, 3], so the family is well-conditioned on the whole circle.
const gauss = normals(seed)
const random = () => Float64Array.from({ length: n * n }, () => (0.2 * gauss()) / Math.sqrt(n))
const [A0, A1, A2] = [random(), random(), random()]
for (let i = 0; i < n; i++) A0[i * n + i] += 2

/** A(p) for every p in `params`, as one row-major, batch-major MatrixBatch. */
function matricesAt(params) {
  const size = n * n
  const data = new Float64Array(params.length * size)
  params.forEach((p, k) => {
    const c = Math.cos(2 * Math.PI * p)
    const s = Math.sin(2 * Math.PI * p)
    for (let j = 0; j < size; j++) data[k * size + j] = A0[j] + c * A1[j] + s * A2[j]
  })
  return { batch: params.length, rows: n, cols: n, data }
}

async function main() {
  const grid = Float64Array.from({ length: gridSize }, (_, i) => i / (gridSize - 1))
  const heldBack = (i) => i % 5 === 0 && i > 0 && i < gridSize - 1 // interior, so inside the domain
  const trainParams = grid.filter((_, i) => !heldBack(i))
  const testParams = grid.filter((_, i) => heldBack(i))

  const family = Family.fromSamples({ paramDim: 1, params: trainParams, matrices: matricesAt(trainParams) })
  console.log(
    `family: ${trainParams.length} of ${gridSize} grid points, n = ${n}, ` +
      `domain [${family.domain.lo}, ${family.domain.hi}]; ${testParams.length} points held back`,
  )

  const model = await NeuMatC.train(family, 'inverse', { seed, steps })
  const r = model.report
  console.log(
    `trained in ${r.seconds.toFixed(2)} s: d = ${r.latentDim}, ${r.supervised} exact solves and ` +
      `${r.collocationFinal} collocation points drawn from the grid, cond(A) up to ${r.conditionMax.toFixed(2)}`,
  )
  console.log(`report: held-out RelErr_inv ${r.heldOutRelErr.toExponential(2)} on ${r.heldOutCount} grid points training did not use`)
  for (const w of r.warnings) console.log(`warning: ${w}`)

  // The held-back grid points: neumatc has never seen A(p) there.
  const A = matricesAt(testParams)
  const { inverse } = await model.predict(testParams)
  const err = metrics.relErrInverse(A, inverse)
  console.log(`held-back points: RelErr_inv ${err.toExponential(2)} (metrics.relErrInverse against our own A(p))`)

  // check() needs A(p): a fromSamples family knows it only on its own grid, so pass one that holds the
  // held-back matrices.
  const testFamily = Family.fromSamples({ paramDim: 1, params: testParams, matrices: A })
  const { residual } = await model.check(testParams, { family: testFamily })
  for (const i of [0, testParams.length >> 1, testParams.length - 1]) {
    console.log(`  p = ${testParams[i].toFixed(2)}: ‖A(p)Ĝ(p) − I‖_F/√n = ${residual[i].toExponential(2)}`)
  }

  assert.ok(err < maxErr, `held-back RelErr_inv ${err} is not below ${maxErr}`)
  console.log(`ok: held-back RelErr_inv ${err.toExponential(2)} < ${maxErr.toExponential()}`)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
