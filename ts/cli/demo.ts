/**
 * `neumatc demo`: train on a built-in family and compare with the exact solver on held-out parameters.
 *
 * @module
 */
import * as os from 'node:os'
import { metrics, type Components, type MatrixBatch, type Operation } from '../index.js'
import { type DemoOptions, type MethodResult, heldOutParams, setup, EXACT, timeMs, sliceBatch, fmt, table, trainWithProgress } from './shared.js'

export async function demo(opts: DemoOptions, rankGiven: boolean): Promise<void> {
  const log = (msg: string) => {
    if (!opts.quiet && !opts.json) process.stderr.write(`${msg}\n`)
  }
  const op = opts.op
  const s = setup(opts, rankGiven)
  const fam = s.fam
  const settings = Object.entries(s.familyOptions)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  const box = fam.domain.lo.map((lo, j) => `[${lo}, ${fam.domain.hi[j]}]`).join(' × ')
  log(`family: ${s.kind} ${settings}, p in ${box}`)
  for (const note of s.notes) log(`note: ${note}`)

  const t0 = performance.now()
  const model = await trainWithProgress(fam, op, { ...s.train, seed: opts.seed, steps: opts.steps }, opts)
  const trainSeconds = (performance.now() - t0) / 1000
  const report = model.report
  log(`trained in ${fmt(trainSeconds, 2)} s`)

  // Held-out parameters: uniform in the domain, from a seed the training does not use.
  const N = opts.test
  const P = heldOutParams(fam, N, opts.seed + 0x5eed)
  const A = fam.at(P)
  const k = fam.paramDim
  const runs = opts.runs

  const exact = EXACT[op]
  const svdRank = op === 'svd' ? model.spec.rank : undefined
  const runExact = (M: MatrixBatch<Float64Array>) => exact.run(M, s, svdRank) as Components<Operation, Float64Array>
  const predAll = model.predictSync(P)
  const exactAll = runExact(A)
  const errOptions = { rhs: s.rhs, exact: op === 'expm' ? (exactAll as Components<'expm', Float64Array>).expm : undefined }
  const neumatcRel = metrics.relErr(op, A, predAll, errOptions)
  const exactRel = metrics.relErr(op, A, exactAll, errOptions)
  const orthogonal = op === 'svd' || op === 'qr' || op === 'eigh'
  const orthogonality = orthogonal
    ? {
        neumatc: metrics.orthogonalityDefect(op, predAll as Components<typeof op>),
        exact: metrics.orthogonalityDefect(op, exactAll as Components<typeof op>),
      }
    : undefined

  const singles = Array.from({ length: N }, (_, i) => P.subarray(i * k, (i + 1) * k))
  const singleA = Array.from({ length: N }, (_, i) => sliceBatch(A, i))
  const neumatc1 = await timeMs((r) => model.predictSync(singles[r % N]), Math.max(runs, 3) * 3)
  const neumatcN = (await timeMs(() => model.predictSync(P), runs)) / N
  const exact1 = await timeMs((r) => runExact(singleA[r % N]), Math.max(runs, 3) * 3)
  const exactN = (await timeMs(() => runExact(A), runs)) / N

  const results: MethodResult[] = [
    { method: `NeuMatC (${model.dtype})`, msPerMatrixAt1: neumatc1, msPerMatrixAtN: neumatcN, relErr: neumatcRel },
    { method: exact.name, msPerMatrixAt1: exact1, msPerMatrixAtN: exactN, relErr: exactRel },
  ]
  const speedup = { at1: exact1 / neumatc1, atN: exactN / neumatcN }
  const cond: [number, number] = [report.conditionMin, report.conditionMax]
  const latentDim = model.latentDim
  const steps = report.steps
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()}-${os.arch()}`, node: process.version }

  if (opts.json) {
    const familyOut =
      s.kind === 'synthetic'
        ? { kind: s.kind, n: fam.rows, rank: opts.rank, eps: s.familyOptions.eps ?? null, seed: opts.seed, ...(s.familyOptions.scale === undefined ? {} : { scale: s.familyOptions.scale }) }
        : { kind: s.kind, ...s.familyOptions, n: fam.rows }
    const out = {
      operation: op,
      family: { ...familyOut, rows: fam.rows, cols: fam.cols, paramDim: k, domain: fam.domain },
      ...(svdRank === undefined ? {} : { svdRank }),
      notes: s.notes,
      test: N,
      runs,
      training: {
        seconds: trainSeconds,
        steps,
        latentDim,
        heldOutRelErr: report.heldOutRelErr,
        heldOutOrthogonality: report.heldOutOrthogonality ?? null,
        report,
      },
      results,
      ...(orthogonality ? { orthogonality } : {}),
      speedup,
      // Measured by the training for inverse and solve only.
      conditionNumber: cond[1] > 0 ? { min: cond[0], max: cond[1] } : null,
      machine,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return
  }
  const metric = `RelErr_${op === 'inverse' ? 'inv' : op}`
  const rows = results.map((r) => [r.method, fmt(r.msPerMatrixAt1, 4), fmt(r.msPerMatrixAtN, 4), fmt(r.relErr)])
  const orthLine = orthogonality
    ? `orthogonality defect ‖XᵀX − I‖_F/√r (largest): NeuMatC ${fmt(orthogonality.neumatc)}, exact ${fmt(orthogonality.exact)}, ` +
      `validation ${fmt(report.heldOutOrthogonality ?? undefined)}\n`
    : ''
  process.stdout.write(
    `\n${table(['method', 'ms/matrix @1', `ms/matrix @${N}`, metric], rows)}\n\n` +
      (op === 'inverse' ? '' : `operation: ${op}${svdRank === undefined ? '' : ` (rank ${svdRank})`} on the ${s.kind} family\n`) +
      s.notes.map((note) => `note: ${note}\n`).join('') +
      `training: ${fmt(trainSeconds, 2)} s, ${steps} steps, latent dim ${latentDim}, ` +
      `validation ${metric === 'RelErr_inv' ? 'RelErr' : metric} ${fmt(report.heldOutRelErr ?? undefined)} (${report.heldOutCount} points)\n` +
      orthLine +
      `speed-up vs ${exact.short}: ${fmt(speedup.at1, 2)}× @1, ${fmt(speedup.atN, 2)}× @${N}\n` +
      (cond[1] > 0 ? `condition number of A(p) over the supervised samples: ${fmt(cond[0])} … ${fmt(cond[1])}\n` : '') +
      `machine: ${machine.cpus} × ${machine.cpu}, ${machine.platform}, Node ${machine.node}\n`,
  )
}
