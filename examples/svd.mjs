// A learned truncated SVD (`rank` r) of the low-rank synthetic family
// H(p) = A(p) B(p)ᵀ + 1e-3·I, whose energy sits in its leading r singular triplets: reconstruction
// error (RelErr_svd), orthogonality of U and V, and the exact truncated SVD as the floor.
//
//   node examples/svd.mjs                               # n = 32, r = 4: a few seconds
//   node examples/svd.mjs --n 256 --rank 20 --supervised 120 --steps 2000   # the README's row (~45 s)
import assert from 'node:assert/strict'
import { Family, NeuMatC, baselines, metrics } from 'neumatc'
import { option } from './options.cjs'

const n = option('n', 32)
const rank = option('rank', 4)
const supervised = option('supervised', 80) // singular vectors rotate fast in p: more exact SVDs than the default 40
const steps = option('steps', 500)
const batch = option('batch', 50)
const seed = option('seed', 1)
// The held-out error the automatic latent dimension aims for. 80 samples at n = 32 reach ~3e-4; with
// the default 1e-5 the model is about as accurate, a little larger, and its report warns.
const accuracy = option('accuracy', 1e-3)
const maxErr = option('max-err', 5e-3)
const maxOrth = option('max-orth', 0.25)

// `scale: 1, eps: 1e-3`: the unscaled low-rank part plus a tiny shift, so the leading `rank`
// singular values stand well apart from the rest (a thin SVD of the default family is not learnable:
// its trailing singular values cluster at eps, see the README's limitations).
const family = Family.synthetic({ n, rank, scale: 1, eps: 1e-3, seed })
const model = await NeuMatC.train(family, 'svd', { rank, seed, steps, accuracy, sampling: { supervised } })
const r = model.report
console.log(
  `trained rank-${rank} SVD of n = ${n} in ${r.seconds.toFixed(2)} s: d = ${r.latentDim}, ${r.supervised} exact SVDs, ` +
    `held-out RelErr_svd ${r.heldOutRelErr.toExponential(2)}, orthogonality ${r.heldOutOrthogonality.toExponential(2)}`,
)
for (const w of r.warnings) console.log(`warning: ${w}`)

const params = Float64Array.from({ length: batch }, (_, i) => (i + 0.5) / batch)
const A = family.at(params)
const { U, S, V } = await model.predict(params)
console.log(`predicted U ${U.rows}x${U.cols}, S ${S.rows}x${S.cols}, V ${V.rows}x${V.cols} for ${U.batch} parameters`)

const err = metrics.relErrSvd(A, { U, S, V }) // ‖U diag(S) Vᵀ − A‖²_F / ‖A‖²_F, mean over the batch
const orth = metrics.orthogonalityDefect('svd', { U, S, V }) // max ‖XᵀX − I‖_F / √r over U, V and the batch
const exact = await baselines.svd(A, { rank })
const floor = metrics.relErrSvd(A, exact) // what rank r can reach at all (the εI tail)
console.log(`  NeuMatC      RelErr_svd ${err.toExponential(2)}   orthogonality ${orth.toExponential(2)}`)
console.log(`  exact SVD    RelErr_svd ${floor.toExponential(2)}   orthogonality ${metrics.orthogonalityDefect('svd', exact).toExponential(2)}   (truncation floor)`)

// The learned triplets follow smooth branches in p: past a crossing of two singular values their
// order is the branch order, which can differ from the exact SVD's descending one.
const i = batch >> 1
console.log(`  σ at p = ${params[i].toFixed(2)}: learned [${[...S.data.subarray(i * rank, (i + 1) * rank)].map((s) => s.toFixed(4))}]`)
console.log(`                 exact   [${[...exact.S.data.subarray(i * rank, (i + 1) * rank)].map((s) => s.toFixed(4))}]`)

assert.ok(err < maxErr, `RelErr_svd ${err} is not below ${maxErr}`)
assert.ok(orth < maxOrth, `orthogonality defect ${orth} is not below ${maxOrth}`)
console.log(`ok: RelErr_svd ${err.toExponential(2)} < ${maxErr.toExponential()}, orthogonality ${orth.toExponential(2)} < ${maxOrth}`)
