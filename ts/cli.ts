#!/usr/bin/env node
/**
 * The `neumatc` command line: a thin layer over the public API.
 *
 * `neumatc demo` trains a model of `A(p)⁻¹` on the paper's synthetic family, then compares it
 * with the exact LU inverse on held-out parameters (time per matrix and RelErr_inv).
 *
 * Exit codes: 0 ok, 1 user error or `NeuMatCError`, 2 internal error.
 *
 * @module
 */
import * as os from 'node:os'
import { Command, InvalidArgumentError, CommanderError } from 'commander'
import { SingleBar, Presets } from 'cli-progress'
import { Family, NeuMatC, NeuMatCError, baselines, metrics, type MatrixBatch, type Progress } from './index.js'

/** Options of `neumatc demo`. */
interface DemoOptions {
  n: number
  rank: number
  eps?: number
  seed: number
  test: number
  steps?: number
  runs: number
  json: boolean
  quiet: boolean
}

/** One row of the results table. */
interface MethodResult {
  method: string
  msPerMatrixAt1: number
  msPerMatrixAtN: number
  relErr: number
}

function intArg(min: number) {
  return (value: string): number => {
    const v = Number(value)
    if (!Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`expected an integer >= ${min}`)
    return v
  }
}

function floatArg(value: string): number {
  const v = Number(value)
  if (!Number.isFinite(v)) throw new InvalidArgumentError('expected a finite number')
  return v
}

/** mulberry32: a small seeded PRNG, so held-out parameters are reproducible. */
function rng(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` parameters drawn uniformly from the family's domain. */
function heldOutParams(fam: Family, count: number, seed: number): Float64Array {
  const { lo, hi } = fam.domain
  const k = fam.paramDim
  const next = rng(seed)
  const out = new Float64Array(count * k)
  for (let i = 0; i < count; i++) for (let j = 0; j < k; j++) out[i * k + j] = lo[j] + (hi[j] - lo[j]) * next()
  return out
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Median wall time in ms of `fn` over `runs` runs after `warmup` untimed runs. Runs are separated by
 * one event-loop turn (untimed), as calls are in an application: it lets the GC hand freed result
 * buffers back to the addon for reuse.
 */
async function timeMs(fn: (run: number) => void, runs: number, warmup = 2): Promise<number> {
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve))
  for (let i = 0; i < warmup; i++) {
    fn(i)
    await turn()
  }
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn(i)
    times.push(performance.now() - t0)
    await turn()
  }
  return median(times)
}

function sliceBatch(A: MatrixBatch<Float64Array>, i: number): MatrixBatch<Float64Array> {
  const size = A.rows * A.cols
  return { batch: 1, rows: A.rows, cols: A.cols, data: A.data.subarray(i * size, (i + 1) * size) }
}

function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined || !Number.isFinite(v)) return '—'
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2)
  return v.toFixed(digits)
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

async function demo(opts: DemoOptions): Promise<void> {
  const log = (msg: string) => {
    if (!opts.quiet && !opts.json) process.stderr.write(`${msg}\n`)
  }
  const fam = Family.synthetic({ n: opts.n, rank: opts.rank, eps: opts.eps, seed: opts.seed })
  log(`family: synthetic n=${fam.rows} rank=${opts.rank} seed=${opts.seed}, p in [${fam.domain.lo}, ${fam.domain.hi}]`)

  const controller = new AbortController()
  let interrupts = 0
  const onSigint = () => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    process.stderr.write('\ncancelling training (Ctrl-C again to quit now)…\n')
    controller.abort(new Error('interrupted (SIGINT)'))
  }
  process.on('SIGINT', onSigint)

  const showBar = !opts.quiet && !opts.json && process.stderr.isTTY
  const bar = new SingleBar(
    {
      format: 'training [{bar}] {value}/{total} | {phase} | loss {loss} | failureProb {failureProb} | {elapsed}s',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  )
  let barStarted = false
  let lastPhase = ''
  const onProgress = (e: Progress) => {
    if (!showBar) {
      if (!opts.quiet && !opts.json && e.phase !== lastPhase) log(`phase: ${e.phase}`)
      lastPhase = e.phase
      return
    }
    const payload = { phase: e.phase, loss: fmt(e.loss), failureProb: fmt(e.failureProb ?? undefined), elapsed: fmt(e.elapsed, 1) }
    if (!barStarted) {
      bar.start(Math.max(1, e.steps), e.step, payload)
      barStarted = true
    } else {
      bar.setTotal(Math.max(1, e.steps))
      bar.update(e.step, payload)
    }
  }

  let model: NeuMatC<'inverse'>
  const t0 = performance.now()
  try {
    model = await NeuMatC.train(fam, 'inverse', { seed: opts.seed, steps: opts.steps, onProgress, signal: controller.signal })
  } finally {
    if (barStarted) bar.stop()
    process.off('SIGINT', onSigint)
  }
  const trainSeconds = (performance.now() - t0) / 1000
  const report = model.report
  log(`trained in ${fmt(trainSeconds, 2)} s`)

  // Held-out parameters: uniform in the domain, from a seed the training does not use.
  const N = opts.test
  const P = heldOutParams(fam, N, opts.seed + 0x5eed)
  const A = fam.at(P)
  const k = fam.paramDim
  const runs = opts.runs

  const predAll = model.predictSync(P).inverse
  const luAll = baselines.inverseSync(A)
  const neumatcRel = metrics.relErrInverse(A, predAll)
  const luRel = metrics.relErrInverse(A, luAll)

  const singles = Array.from({ length: N }, (_, i) => P.subarray(i * k, (i + 1) * k))
  const singleA = Array.from({ length: N }, (_, i) => sliceBatch(A, i))
  const neumatc1 = await timeMs((r) => model.predictSync(singles[r % N]), Math.max(runs, 3) * 3)
  const neumatcN = (await timeMs(() => model.predictSync(P), runs)) / N
  const lu1 = await timeMs((r) => baselines.inverseSync(singleA[r % N]), Math.max(runs, 3) * 3)
  const luN = (await timeMs(() => baselines.inverseSync(A), runs)) / N

  const results: MethodResult[] = [
    { method: `NeuMatC (${model.dtype})`, msPerMatrixAt1: neumatc1, msPerMatrixAtN: neumatcN, relErr: neumatcRel },
    { method: 'LU (exact, f64)', msPerMatrixAt1: lu1, msPerMatrixAtN: luN, relErr: luRel },
  ]
  const speedup = { at1: lu1 / neumatc1, atN: luN / neumatcN }
  const cond: [number, number] = [report.conditionMin, report.conditionMax]
  const latentDim = model.latentDim
  const steps = report.steps
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()}-${os.arch()}`, node: process.version }

  if (opts.json) {
    const out = {
      family: { kind: 'synthetic', n: fam.rows, rank: opts.rank, eps: opts.eps ?? null, seed: opts.seed, paramDim: k, domain: fam.domain },
      test: N,
      runs,
      training: { seconds: trainSeconds, steps, latentDim, heldOutRelErr: report.heldOutRelErr, report },
      results,
      speedup,
      conditionNumber: { min: cond[0], max: cond[1] },
      machine,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return
  }
  const rows = results.map((r) => [r.method, fmt(r.msPerMatrixAt1, 4), fmt(r.msPerMatrixAtN, 4), fmt(r.relErr)])
  process.stdout.write(
    `\n${table(['method', 'ms/matrix @1', `ms/matrix @${N}`, 'RelErr_inv'], rows)}\n\n` +
      `training: ${fmt(trainSeconds, 2)} s, ${steps} steps, latent dim ${latentDim}, ` +
      `validation RelErr ${fmt(report.heldOutRelErr ?? undefined)} (${report.heldOutCount} points)\n` +
      `speed-up vs LU: ${fmt(speedup.at1, 2)}× @1, ${fmt(speedup.atN, 2)}× @${N}\n` +
      `condition number of A(p) over the supervised samples: ${fmt(cond[0])} … ${fmt(cond[1])}\n` +
      `machine: ${machine.cpus} × ${machine.cpu}, ${machine.platform}, Node ${machine.node}\n`,
  )
}

/** Builds the command-line program (exported for tests). */
export function program(): Command {
  const cmd = new Command()
  cmd.name('neumatc').description('Fast parametric matrix operations, learned NeuMatC-style').exitOverride()
  cmd
    .command('demo')
    .description('train A(p)^-1 on the synthetic family and compare with LU on held-out parameters')
    .option('--n <n>', 'matrix order', intArg(1), 256)
    .option('--rank <r>', 'rank of the low-rank part', intArg(1), 20)
    .option('--eps <eps>', 'shift eps of the eps*I term (default: the engine default)', floatArg)
    .option('--seed <seed>', 'seed of the family, the training and the held-out parameters', intArg(0), 7)
    .option('--test <count>', 'held-out parameters', intArg(1), 100)
    .option('--steps <steps>', 'optimiser steps (default: the engine default)', intArg(1))
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 7)
    .option('--json', 'print one JSON object instead of a table', false)
    .option('--quiet', 'no progress output', false)
    .action(async (o: DemoOptions) => demo(o))
  return cmd
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv)
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1
    if (e instanceof NeuMatCError) {
      process.stderr.write(`neumatc: ${e.code}: ${e.message}\n`)
      return 1
    }
    if (e instanceof TypeError || e instanceof RangeError) {
      process.stderr.write(`neumatc: ${e.message}\n`)
      return 1
    }
    process.stderr.write(`neumatc: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return 2
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code
    },
    () => {
      process.exitCode = 2
    },
  )
}
