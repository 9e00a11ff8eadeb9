/**
 * `neumatc bench`: the amortisation benchmark.
 *
 * @module
 */
import * as os from 'node:os'
import { InvalidArgumentError } from 'commander'
import { Family, baselines, metrics } from '../index.js'
import { heldOutParams, timeMs, fmt, table, trainWithProgress } from './shared.js'

/** Options of `neumatc bench`. */
export interface BenchOptions {
  sizes: number[]
  batch: number
  seed: number
  runs: number
  json: boolean
  quiet: boolean
}

export function sizesArg(value: string): number[] {
  const sizes = value.split(',').map((v) => Number(v.trim()))
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 4)) throw new InvalidArgumentError('expected comma-separated matrix orders >= 4, e.g. 64,128,256')
  return sizes
}

/**
 * The amortisation benchmark: for each matrix order, train an inverse model on the synthetic
 * family, then time it against LU at one batch size; reports the error beside every time, the
 * training cost and the break-even batch (training seconds ÷ time saved per matrix).
 */
export async function benchCommand(opts: BenchOptions): Promise<void> {
  const rows: Record<string, number | string>[] = []
  for (const n of opts.sizes) {
    const fam = Family.synthetic({ n, rank: Math.max(4, Math.round(n / 12)), seed: opts.seed })
    const t0 = performance.now()
    const model = await trainWithProgress(fam, 'inverse', { seed: opts.seed }, { quiet: opts.quiet, json: opts.json })
    const trainSeconds = (performance.now() - t0) / 1000
    const P = heldOutParams(fam, opts.batch, opts.seed + 0x5eed)
    const A = fam.at(P)
    const nm = (await timeMs(() => model.predictSync(P), opts.runs)) / opts.batch
    const lu = (await timeMs(() => baselines.inverseSync(A), opts.runs)) / opts.batch
    const relErr = metrics.relErrInverse(A, model.predictSync(P).inverse)
    const saved = lu - nm
    rows.push({
      n,
      batch: opts.batch,
      neumatcMs: nm,
      luMs: lu,
      speedup: lu / nm,
      relErr,
      trainSeconds,
      breakEvenBatch: saved > 0 ? Math.ceil((trainSeconds * 1000) / saved) : 'never',
    })
    if (!opts.quiet && !opts.json) process.stderr.write(`n = ${n}: done\n`)
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ operation: 'inverse', family: 'synthetic', seed: opts.seed, runs: opts.runs, results: rows, machine }, null, 2)}\n`)
    return
  }
  const header = ['n', 'NeuMatC ms/matrix', 'LU ms/matrix', 'speed-up', 'RelErr_inv', 'training s', 'break-even batch']
  const body = rows.map((r) => [String(r.n), fmt(r.neumatcMs as number, 4), fmt(r.luMs as number, 4), `${fmt(r.speedup as number, 1)}×`, fmt(r.relErr as number), fmt(r.trainSeconds as number, 1), String(r.breakEvenBatch)])
  process.stdout.write(`${table(header, body)}\n\nbatch ${opts.batch}, medians of ${opts.runs} runs; machine: ${machine.cpus} × ${machine.cpu}, Node ${machine.node}\n`)
}
