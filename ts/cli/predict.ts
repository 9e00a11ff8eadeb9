/**
 * `neumatc predict`: evaluate a saved model.
 *
 * @module
 */
import { NeuMatC, type MatrixBatch } from '../index.js'
import { checkParamCount } from './shared.js'

/** Options of `neumatc predict`. */
export interface PredictCliOptions {
  params: Float64Array
  extrapolate: boolean
  device?: string
  pretty: boolean
}

export async function predictCommand(file: string, opts: PredictCliOptions): Promise<void> {
  const model = await NeuMatC.load(file)
  checkParamCount(opts.params, model)
  const out = await model.predict(opts.params, { extrapolate: opts.extrapolate, device: opts.device })
  const components = Object.fromEntries(
    Object.entries(out as unknown as Record<string, MatrixBatch>).map(([name, m]) => [name, { batch: m.batch, rows: m.rows, cols: m.cols, data: Array.from(m.data) }]),
  )
  const result = { operation: model.operation, params: Array.from(opts.params), paramDim: model.paramDim, dtype: model.dtype, components, warnings: out.warnings }
  for (const w of out.warnings) process.stderr.write(`warning: ${w}\n`)
  process.stdout.write(`${JSON.stringify(result, null, opts.pretty ? 2 : undefined)}\n`)
}
