// Progress and cancellation: a long training run reports its progress through `onProgress` and is
// stopped by an AbortController after a short delay (the promise rejects with CancelledError);
// then a second, short run trains to completion in the same process.
//
//   node examples/progress-cancel.mjs                   # n = 64, abort after 500 ms: a few seconds
//   node examples/progress-cancel.mjs --abort-after 2000 --n 128
import assert from 'node:assert/strict'
import { CancelledError, Family, NeuMatC } from 'neumatc'
import { option } from './options.cjs'

const n = option('n', 64)
const abortAfter = option('abort-after', 500) // ms
const steps = option('steps', 500) // of the run that completes
const seed = option('seed', 1)
const maxErr = option('max-err', 1e-4)

/** One line per progress event: phase, step, losses, collocation points, notes. */
function printProgress({ phase, step, steps, loss, dataLoss, structureLoss, collocation, elapsed, message }) {
  const losses = Number.isFinite(loss) && loss > 0
    ? `loss ${loss.toExponential(2)} (data ${dataLoss.toExponential(2)}, structure ${structureLoss.toExponential(2)})`
    : ''
  console.log(
    `  ${elapsed.toFixed(2).padStart(6)} s  ${phase.padEnd(11)} step ${String(step).padStart(6)}/${steps}  ${losses}` +
      `  collocation ${collocation}${message ? `  note: ${message}` : ''}`,
  )
}

const family = Family.synthetic({ n, seed })

// 1. A run far too long to finish (100 000 steps), cancelled after `abortAfter` ms.
console.log(`training n = ${n} with 100000 steps, aborting after ${abortAfter} ms:`)
const controller = new AbortController()
const timer = setTimeout(() => controller.abort(new Error('took too long')), abortAfter)
const started = performance.now()
let events = 0
let abortedAt
controller.signal.addEventListener('abort', () => (abortedAt = performance.now()))
try {
  await NeuMatC.train(family, 'inverse', {
    seed,
    steps: 100_000,
    signal: controller.signal,
    onProgress: (e) => {
      events++
      printProgress(e)
    },
  })
  assert.fail('training finished although it was aborted')
} catch (e) {
  if (!(e instanceof CancelledError)) throw e
  const latency = performance.now() - abortedAt
  console.log(
    `cancelled after ${((performance.now() - started) / 1000).toFixed(2)} s, ${latency.toFixed(0)} ms after the abort: ` +
      `${e.name} (code ${e.code}): ${e.message}; cause: ${e.cause?.message}`,
  )
  assert.equal(e.code, 'CANCELLED')
  assert.ok(events > 0, 'no progress event arrived before the abort')
} finally {
  clearTimeout(timer)
}

// 2. The process (and the addon) are still usable: a short run trains to completion.
console.log(`training again, ${steps} steps, to completion:`)
const model = await NeuMatC.train(family, 'inverse', { seed, steps, onProgress: printProgress })
const r = model.report
// The events carry Adam's losses; after Adam the last layer of Φ is solved in closed form, and the
// report holds the loss after that solve.
console.log(
  `done in ${r.seconds.toFixed(2)} s, ${r.steps} steps: final loss ${r.loss.toExponential(2)}, ` +
    `held-out RelErr_inv ${r.heldOutRelErr.toExponential(2)}`,
)
assert.ok(r.heldOutRelErr < maxErr, `held-out RelErr_inv ${r.heldOutRelErr} is not below ${maxErr}`)
console.log(`ok: cancelled cleanly, then trained to ${r.heldOutRelErr.toExponential(2)} < ${maxErr.toExponential()}`)
