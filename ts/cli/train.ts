/**
 * `neumatc train`: train and save a model (built-in family or the user's files).
 *
 * @module
 */
import { readSamples } from '../samples.js'
import { type DemoOptions, type Setup, setup, fmt, trainWithProgress } from './shared.js'

/** Options of `neumatc train`. */
export interface TrainCliOptions extends Pick<DemoOptions, 'op' | 'family' | 'n' | 'rank' | 'eps' | 'seed' | 'steps' | 'json' | 'quiet'> {
  out: string
  samples?: string
  rhs?: Float64Array
  dtype?: 'f32' | 'f64'
  accuracy?: number
  device?: string
}

/** The family and settings of `train`: the user's samples (`--samples`) or a built-in generator. */
export function trainSetup(opts: TrainCliOptions, rankGiven: boolean): Setup {
  if (opts.samples === undefined) {
    if (opts.rhs !== undefined) throw new RangeError('--rhs applies to --samples families (built-in ones draw a random b)')
    return setup({ ...opts, test: 0, runs: 0 }, rankGiven)
  }
  if (opts.family !== undefined) throw new RangeError('give either --samples or --family, not both')
  const fam = readSamples(opts.samples)
  const train: Setup['train'] = {}
  if (opts.op === 'svd' && rankGiven) train.rank = opts.rank
  if (opts.op === 'solve') {
    if (opts.rhs === undefined) throw new RangeError(`--op solve needs --rhs: the ${fam.rows} values of b`)
    train.rhs = opts.rhs
  } else if (opts.rhs !== undefined) {
    throw new RangeError('--rhs applies to --op solve only')
  }
  return { fam, kind: 'samples', familyOptions: {}, train, rhs: opts.rhs, notes: [] }
}

export async function trainCommand(opts: TrainCliOptions, rankGiven: boolean): Promise<void> {
  const s = trainSetup(opts, rankGiven)
  if (!opts.quiet && !opts.json) for (const note of s.notes) process.stderr.write(`note: ${note}\n`)
  const model = await trainWithProgress(s.fam, opts.op, { ...s.train, seed: opts.seed, steps: opts.steps, dtype: opts.dtype, accuracy: opts.accuracy, device: opts.device }, opts)
  await model.save(opts.out)
  const r = model.report
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ out: opts.out, operation: opts.op, notes: s.notes, metadata: model.metadata }, null, 2)}\n`)
    return
  }
  process.stdout.write(
    `saved ${opts.out}: ${opts.op} of ${s.fam.rows}×${s.fam.cols} matrices on the ${s.kind} family\n` +
      `training: ${fmt(r.seconds, 2)} s, ${r.steps} steps, latent dim ${model.latentDim}, held-out RelErr ${fmt(r.heldOutRelErr ?? undefined)}\n` +
      r.warnings.map((w) => `warning: ${w}\n`).join(''),
  )
}
