/**
 * `neumatc check`: verify a saved model's answers.
 *
 * @module
 */
import { NeuMatC } from '../index.js'
import { fmt, table, checkParamCount } from './shared.js'

export async function checkCommand(file: string, opts: { params: Float64Array; extrapolate: boolean; probes?: number; json: boolean }): Promise<void> {
  const model = await NeuMatC.load(file)
  checkParamCount(opts.params, model)
  if (!model.hasFamily) {
    throw new RangeError(`${file} was trained on the user's samples (fromSamples): check it from code with model.check(params, { family })`)
  }
  const r = await model.check(opts.params, { probes: opts.probes, extrapolate: opts.extrapolate })
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`)
  const names = Object.keys(r.measures)
  const k = model.paramDim
  if (opts.json) {
    const measures = Object.fromEntries(names.map((n) => [n, Array.from(r.measures[n])]))
    process.stdout.write(`${JSON.stringify({ operation: model.operation, params: Array.from(opts.params), paramDim: k, measures, warnings: r.warnings }, null, 2)}\n`)
    return
  }
  const rows = Array.from({ length: r.batch }, (_, i) => [
    Array.from(opts.params.subarray(i * k, (i + 1) * k), (v) => String(v)).join(', '),
    ...names.map((n) => fmt(r.measures[n][i])),
  ])
  process.stdout.write(`${table(['p', ...names], rows)}\n`)
}
