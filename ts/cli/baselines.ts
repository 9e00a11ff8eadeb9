/**
 * `neumatc baselines`: time the exact baselines.
 *
 * @module
 */
import { NeuMatCError, baselines, metrics, type Components, type Operation } from '../index.js'
import { type DemoOptions, heldOutParams, setup, EXACT, timeMs, fmt, table } from './shared.js'

/** Options of `neumatc baselines`. */
export interface BaselinesOptions extends Pick<DemoOptions, 'op' | 'family' | 'n' | 'rank' | 'eps' | 'seed' | 'test' | 'runs' | 'json' | 'quiet'> {}

/**
 * Times every baseline of an operation on held-out parameters of a built-in family (no training):
 * the exact solver, and for `inverse` NNI, COI and ZNNI, for `svd` RSVD and CRSVD.
 */
export async function baselinesCommand(opts: BaselinesOptions, rankGiven: boolean): Promise<void> {
  const s = setup({ ...opts, steps: undefined }, rankGiven)
  const fam = s.fam
  const N = opts.test
  const P = heldOutParams(fam, N, opts.seed + 0x5eed)
  const A = fam.at(P)
  const op = opts.op
  const rank = op === 'svd' ? (s.train.rank ?? Math.min(fam.rows, fam.cols)) : undefined
  const errOptions = { rhs: s.rhs }
  const rows: { method: string; msPerMatrix: number; relErr: number; note?: string }[] = []
  // Each baseline returns its operation's components (checked by metrics.relErr at run time).
  // A baseline that fails here (e.g. ZNNI diverging) is reported in its row, not fatal.
  const measure = async (method: string, fn: () => object, note?: string, batchA = A) => {
    try {
      let out = fn()
      const ms = (await timeMs(() => (out = fn()), opts.runs, 1)) / N
      rows.push({ method, msPerMatrix: ms, relErr: metrics.relErr(op, batchA, out as Components<Operation, Float64Array>, errOptions), note })
    } catch (e) {
      if (!(e instanceof NeuMatCError)) throw e
      rows.push({ method, msPerMatrix: Number.NaN, relErr: Number.NaN, note: `failed: ${e.code}: ${e.message}` })
    }
  }
  const exact = EXACT[op]
  await measure(exact.name, () => exact.run(A, s, rank))
  if (op === 'expm') rows[0].relErr = 0
  if (op === 'inverse') {
    await measure('NNI (Newton–Schulz, f64)', () => ({ inverse: baselines.newtonSchulzSync(A).inverse }))
    if (fam.paramDim === 1) {
      const coi = baselines.coiSync(fam)
      await measure('COI (16 Chebyshev nodes)', () => ({ inverse: coi.inverseSync(P) }), 'precomputation (16 exact inverses) not timed')
      const sorted = Float64Array.from(P).sort()
      await measure('ZNNI (RK4 along sorted p)', () => ({ inverse: baselines.znnSync(fam, sorted) }), undefined, fam.at(sorted))
    }
  }
  if (op === 'svd') {
    await measure(`RSVD (rank ${rank}, 10 oversample, 1 power iteration)`, () => baselines.rsvdSync(A, { rank, seed: 1 }))
    await measure(`CRSVD (shared sketch)`, () => baselines.crsvdSync(A, { rank, seed: 1 }))
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ operation: op, family: { kind: s.kind, ...s.familyOptions }, test: N, runs: opts.runs, notes: s.notes, results: rows }, null, 2)}\n`)
    return
  }
  for (const note of s.notes) process.stderr.write(`note: ${note}\n`)
  const metric = `RelErr_${op === 'inverse' ? 'inv' : op}`
  process.stdout.write(`${table(['method', `ms/matrix @${N}`, metric, 'note'], rows.map((r) => [r.method, fmt(r.msPerMatrix, 4), fmt(r.relErr), r.note ?? '']))}\n`)
}
