/**
 * `neumatc info`: print a model file's metadata.
 *
 * @module
 */
import { NeuMatC, type TrainReport } from '../index.js'
import { fmt } from './shared.js'

export function infoCommand(file: string, opts: { json: boolean }): void {
  const meta = NeuMatC.readInfo(file) as Record<string, unknown> & { report: TrainReport }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(meta, null, 2)}\n`)
    return
  }
  const r = meta.report
  const family = meta.family as { kind?: string; options?: Record<string, unknown> } | undefined
  const domain = meta.domain as { lo: number[]; hi: number[] } | undefined
  const spec = meta.spec as { rows: number; cols: number; rank: number } | undefined
  const lines = [
    `file: ${file}`,
    `format: neumatc v${String(meta.formatVersion)} (library ${String(meta.libraryVersion ?? 'unknown')})`,
    `operation: ${String(meta.operation)}${spec ? ` of ${spec.rows}×${spec.cols} matrices${meta.operation === 'svd' ? `, rank ${spec.rank}` : ''}` : ''}`,
    `family: ${family?.kind ?? 'unknown'}${family?.options ? ` ${JSON.stringify(family.options)}` : ''}`,
    ...(domain ? [`domain: ${domain.lo.map((lo, j) => `[${lo}, ${domain.hi[j]}]`).join(' × ')}`] : []),
    `latent dim: ${String(meta.latentDim)}, dtype ${String(meta.dtype)}, trained on ${String(meta.device)}`,
    ...(r
      ? [
          `training: ${fmt(r.seconds, 2)} s, ${r.steps} steps, ${r.supervised} exact solves, held-out RelErr ${fmt(r.heldOutRelErr ?? undefined)} (${r.heldOutCount} points)`,
          ...r.warnings.map((w) => `warning: ${w}`),
        ]
      : []),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
