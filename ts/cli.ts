#!/usr/bin/env node
/**
 * The `neumatc` command line: a thin layer over the public API.
 *
 * `neumatc train` trains and saves a model (built-in family or the user's files), `predict`
 * evaluates a saved one, `check` verifies its answers, `info` prints a model file's metadata,
 * `baselines` times the baselines, `bench` runs the amortisation benchmark.
 *
 * `neumatc demo` trains a model of an operation (`A(p)⁻¹` by default; `--op` picks any of
 * {@link OPERATIONS}) on one of the built-in families, then compares it with the exact solver on
 * held-out parameters (time per matrix and the paper's RelErr).
 *
 * Exit codes: 0 ok, 1 user error or `NeuMatCError`, 2 internal error (code `INTERNAL` or a bug).
 *
 * @module
 */
import * as os from 'node:os'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { SingleBar, Presets } from 'cli-progress'
import {
  Family,
  NeuMatC,
  NeuMatCError,
  OPERATIONS,
  baselines,
  metrics,
  type Components,
  type MatrixBatch,
  type Operation,
  type Progress,
  type TrainOptions,
  type TrainReport,
} from './index.js'
import { readSamples } from './samples.js'

/** The built-in families `demo` can train on. */
const FAMILIES = ['synthetic', 'spdFourier', 'controlledRank'] as const
type FamilyKind = (typeof FAMILIES)[number]

/** Options of `neumatc demo`. */
interface DemoOptions {
  op: Operation
  family?: FamilyKind
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

/** The family, training options and notes `demo` settles on for an operation. */
interface Setup {
  fam: Family
  kind: FamilyKind | 'samples'
  /** The options the family was built with (for the JSON output). */
  familyOptions: Record<string, number | undefined>
  /** `rank` (svd) and `rhs` (solve). */
  train: Pick<TrainOptions, 'rank' | 'rhs'>
  rhs?: Float64Array
  /** Why the family or the SVD rank differ from what the user might expect. */
  notes: string[]
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

/**
 * Picks the family and the operation's settings. Cholesky and eigh need symmetric (positive
 * definite) matrices, so they default to `spdFourier`. On the synthetic and controlled-rank
 * families the SVD is truncated to the family's inner rank: the thin SVD of `A(p) B(p)ᵀ + εI` is
 * not learnable (the `n − r` singular values equal to `ε` form a degenerate cluster whose vectors
 * are not continuous in `p`), and a controlled-rank matrix has `n − r` zero singular values.
 */
function setup(opts: DemoOptions, rankGiven: boolean): Setup {
  const notes: string[] = []
  const op = opts.op
  let kind = opts.family
  if (kind === undefined) {
    kind = op === 'cholesky' || op === 'eigh' ? 'spdFourier' : 'synthetic'
    if (kind === 'spdFourier') {
      notes.push(`${op} needs symmetric positive definite A(p): using the spdFourier family (choose another with --family)`)
    }
  }
  const train: Setup['train'] = {}
  let familyOptions: Record<string, number | undefined>
  let fam: Family
  if (kind === 'synthetic') {
    familyOptions = { n: opts.n, rank: opts.rank, eps: opts.eps, seed: opts.seed }
    if (op === 'svd') {
      train.rank = opts.rank
      if (opts.eps === undefined) {
        familyOptions = { ...familyOptions, eps: 1e-3, scale: 1 }
        notes.push(
          `svd: using the low-rank synthetic variant (scale 1, eps 1e-3) and the rank-${opts.rank} SVD` +
            (rankGiven ? '' : ' (the family\'s inner rank)') +
            ': the thin SVD of the default family is not learnable, its eps*I term leaves a degenerate cluster of singular values',
        )
      } else {
        notes.push(`svd: truncated to the family's inner rank ${opts.rank} (the eps*I term leaves a degenerate singular cluster)`)
      }
    }
    fam = Family.synthetic(familyOptions)
  } else if (kind === 'spdFourier') {
    familyOptions = { n: opts.n, eps: opts.eps, seed: opts.seed }
    if (op === 'svd' && rankGiven) train.rank = opts.rank
    fam = Family.spdFourier(familyOptions)
  } else {
    if (opts.eps !== undefined) throw new RangeError('--eps does not apply to the controlledRank family')
    familyOptions = { rows: opts.n, cols: opts.n, rank: opts.rank, seed: opts.seed }
    if (op === 'svd') {
      train.rank = opts.rank
      notes.push(`svd: truncated to the family's rank ${opts.rank} (its other singular values are zero)`)
    }
    fam = Family.controlledRank(familyOptions)
  }
  let rhs: Float64Array | undefined
  if (op === 'solve') {
    // A fixed right-hand side, reproducible from the seed.
    const next = rng(opts.seed + 0xb)
    rhs = Float64Array.from({ length: fam.rows }, () => 2 * next() - 1)
    train.rhs = rhs
    notes.push(`solve: b is a fixed random vector (uniform in [-1, 1], seed ${opts.seed})`)
  }
  return { fam, kind, familyOptions, train, rhs, notes }
}

/** The exact solver of each operation, as `demo` times it, and the name it prints. */
const EXACT: { [Op in Operation]: { name: string; short: string; run: (A: MatrixBatch<Float64Array>, s: Setup, rank?: number) => Components<Op, Float64Array> } } = {
  inverse: { name: 'LU (exact, f64)', short: 'LU', run: (A) => ({ inverse: baselines.inverseSync(A) }) },
  solve: { name: 'LU solve (exact, f64)', short: 'LU solve', run: (A, s) => ({ x: baselines.solveSync(A, s.rhs as Float64Array) }) },
  svd: { name: 'SVD (exact, f64)', short: 'SVD', run: (A, _s, rank) => baselines.svdSync(A, { rank }) },
  qr: { name: 'QR (exact, f64)', short: 'QR', run: (A) => baselines.qrSync(A) },
  cholesky: { name: 'Cholesky (exact, f64)', short: 'Cholesky', run: (A) => ({ L: baselines.choleskySync(A) }) },
  eigh: { name: 'eigh (exact, f64)', short: 'eigh', run: (A) => baselines.eighSync(A) },
  expm: { name: 'expm (Padé, f64)', short: 'expm', run: (A) => ({ expm: baselines.expmSync(A) }) },
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

/**
 * Trains with a progress bar on stderr (a TTY; phase lines otherwise, nothing with `--quiet` or
 * `--json`). Ctrl-C cancels the training cleanly (the promise rejects with `CANCELLED`); a second
 * Ctrl-C quits at once.
 */
async function trainWithProgress(
  fam: Family,
  op: Operation,
  options: TrainOptions,
  opts: { quiet: boolean; json: boolean },
): Promise<NeuMatC> {
  const log = (msg: string) => {
    if (!opts.quiet && !opts.json) process.stderr.write(`${msg}\n`)
  }
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
      format: 'training [{bar}] {value}/{total} | {phase} | {rate} steps/s | ETA {eta_formatted} | loss {loss} | failureProb {failureProb} | {elapsed}s',
      etaBuffer: 50,
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
    const rate = e.elapsed > 0 && e.step > 0 ? fmt(e.step / e.elapsed, 1) : '—'
    const payload = { phase: e.phase, rate, loss: fmt(e.loss), failureProb: fmt(e.failureProb ?? undefined), elapsed: fmt(e.elapsed, 1) }
    if (!barStarted) {
      bar.start(Math.max(1, e.steps), e.step, payload)
      barStarted = true
    } else {
      bar.setTotal(Math.max(1, e.steps))
      bar.update(e.step, payload)
    }
  }

  try {
    return await NeuMatC.train(fam, op, { ...options, onProgress, signal: controller.signal })
  } finally {
    if (barStarted) bar.stop()
    process.off('SIGINT', onSigint)
  }
}

async function demo(opts: DemoOptions, rankGiven: boolean): Promise<void> {
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


/** Options of `neumatc train`. */
interface TrainCliOptions extends Pick<DemoOptions, 'op' | 'family' | 'n' | 'rank' | 'eps' | 'seed' | 'steps' | 'json' | 'quiet'> {
  out: string
  samples?: string
  rhs?: Float64Array
  dtype?: 'f32' | 'f64'
  accuracy?: number
  device?: string
}

/** The family and settings of `train`: the user's samples (`--samples`) or a built-in generator. */
function trainSetup(opts: TrainCliOptions, rankGiven: boolean): Setup {
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

async function trainCommand(opts: TrainCliOptions, rankGiven: boolean): Promise<void> {
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

/** `--params 0.1,0.2,…`: `batch * paramDim` numbers, flattened. */
function paramsArg(value: string): Float64Array {
  const parts = value.split(',').map((v) => v.trim())
  const out = Float64Array.from(parts, Number)
  if (parts.some((v) => v === '') || out.some((v) => !Number.isFinite(v))) {
    throw new InvalidArgumentError('expected comma-separated finite numbers, e.g. 0.1,0.25,0.9')
  }
  return out
}

function checkParamCount(params: Float64Array, model: NeuMatC): void {
  if (params.length % model.paramDim !== 0) {
    throw new RangeError(`--params holds ${params.length} numbers, not a multiple of the model's parameter dimension ${model.paramDim}`)
  }
}

/** Options of `neumatc predict`. */
interface PredictCliOptions {
  params: Float64Array
  extrapolate: boolean
  device?: string
  pretty: boolean
}

async function predictCommand(file: string, opts: PredictCliOptions): Promise<void> {
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

async function checkCommand(file: string, opts: { params: Float64Array; extrapolate: boolean; probes?: number; json: boolean }): Promise<void> {
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

function infoCommand(file: string, opts: { json: boolean }): void {
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


/** Options of `neumatc baselines`. */
interface BaselinesOptions extends Pick<DemoOptions, 'op' | 'family' | 'n' | 'rank' | 'eps' | 'seed' | 'test' | 'runs' | 'json' | 'quiet'> {}

/**
 * Times every baseline of an operation on held-out parameters of a built-in family (no training):
 * the exact solver, and for `inverse` NNI, COI and ZNNI, for `svd` RSVD and CRSVD.
 */
async function baselinesCommand(opts: BaselinesOptions, rankGiven: boolean): Promise<void> {
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

/** Options of `neumatc bench`. */
interface BenchOptions {
  sizes: number[]
  batch: number
  seed: number
  runs: number
  json: boolean
  quiet: boolean
}

function sizesArg(value: string): number[] {
  const sizes = value.split(',').map((v) => Number(v.trim()))
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 4)) throw new InvalidArgumentError('expected comma-separated matrix orders >= 4, e.g. 64,128,256')
  return sizes
}

/**
 * The amortisation benchmark: for each matrix order, train an inverse model on the synthetic
 * family, then time it against LU at one batch size; reports the error beside every time, the
 * training cost and the break-even batch (training seconds ÷ time saved per matrix).
 */
async function benchCommand(opts: BenchOptions): Promise<void> {
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

/**
 * The family options `demo`, `train` and `baselines` share: `--op`, `--family`, `--n`, `--rank`,
 * `--eps` and `--seed` (whose help says what the seed drives in that command).
 */
function withFamilyOptions(command: Command, seedDrives: string): Command {
  return command
    .addOption(new Option('--op <name>', 'operation').choices(OPERATIONS).default('inverse'))
    .addOption(new Option('--family <kind>', 'matrix family (default: synthetic; spdFourier for cholesky and eigh)').choices(FAMILIES))
    .option('--n <n>', 'matrix order', intArg(1), 256)
    .option(
      '--rank <r>',
      'rank of the low-rank part (synthetic, controlledRank); with --op svd also the SVD rank (on spdFourier only when given: thin SVD otherwise)',
      intArg(1),
      20,
    )
    .option('--eps <eps>', 'shift eps of the eps*I term, synthetic and spdFourier (default: the engine default)', floatArg)
    .option('--seed <seed>', `seed of ${seedDrives}`, intArg(0), 7)
}

/** Builds the command-line program (exported for tests). */
export function program(): Command {
  const cmd = new Command()
  cmd.name('neumatc').description('Fast parametric matrix operations, learned NeuMatC-style').exitOverride()
  withFamilyOptions(cmd.command('demo'), 'the family, the training and the held-out parameters')
    .description('train an operation (default A(p)^-1) on a family and compare with the exact solver on held-out parameters')
    .option('--test <count>', 'held-out parameters', intArg(1), 100)
    .option('--steps <steps>', 'optimiser steps (default: the engine default)', intArg(1))
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 7)
    .option('--json', 'print one JSON object instead of a table', false)
    .option('--quiet', 'no progress output', false)
    .action(async (o: DemoOptions, command: Command) => demo(o, command.getOptionValueSource('rank') === 'cli'))
  withFamilyOptions(cmd.command('train'), 'the family and the training')
    .description('train an operation on a built-in family and save the model (safetensors + JSON metadata, written atomically)')
    .requiredOption('--out <file>', 'where to save the model (e.g. model.neumatc)')
    .option('--steps <steps>', 'optimiser steps (default: the engine default)', intArg(1))
    .option('--accuracy <tol>', 'held-out RelErr the automatic latent dimension aims for', floatArg)
    .addOption(new Option('--dtype <dtype>', 'element type of the model').choices(['f32', 'f64']))
    .option('--device <name>', 'where to train: cpu (default), cuda or cuda:N (needs the CUDA build, NEUMATC_BACKEND=cuda)')
    .option('--samples <file>', 'train on your own matrices: a JSON description of the grid and the matrices (.npy or raw little-endian files)')
    .option('--rhs <list>', "b of --op solve on a --samples family, comma-separated", paramsArg)
    .option('--json', 'print the saved metadata as JSON', false)
    .option('--quiet', 'no progress output', false)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  neumatc train --n 128 --rank 10 --out inv128.neumatc\n' +
        '  neumatc train --op svd --n 64 --rank 8 --out svd.neumatc\n' +
        '  neumatc train --samples family.json --out mine.neumatc\n\n' +
        'family.json: { "paramDim": 1, "params": "p.npy", "matrices": "A.npy" }  (A.npy of shape (batch, rows, cols));\n' +
        'raw files: "matrices": { "file": "A.f64", "rows": 64, "cols": 64 }, "params": [0, 0.1, …] or a file.',
    )
    .action(async (o: TrainCliOptions, command: Command) => trainCommand(o, command.getOptionValueSource('rank') === 'cli'))
  withFamilyOptions(cmd.command('baselines'), 'the family and the held-out parameters')
    .description('time every baseline of an operation on held-out parameters of a built-in family (exact, NNI/COI/ZNNI, RSVD/CRSVD)')
    .option('--test <count>', 'held-out parameters', intArg(1), 100)
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 5)
    .option('--json', 'print JSON instead of a table', false)
    .option('--quiet', 'no notes on stderr', false)
    .addHelpText('after', '\nExamples:\n  neumatc baselines --n 128\n  neumatc baselines --op svd --n 128 --rank 10 --json')
    .action(async (o: BaselinesOptions, command: Command) => baselinesCommand(o, command.getOptionValueSource('rank') === 'cli'))
  cmd
    .command('bench')
    .description('amortisation benchmark: train an inverse model per matrix order and time it against LU (error, training cost, break-even batch)')
    .option('--sizes <list>', 'matrix orders', sizesArg, [64, 128, 256])
    .option('--batch <count>', 'parameters per timed batch', intArg(1), 100)
    .option('--seed <seed>', 'seed of the families, the training and the parameters', intArg(0), 7)
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 5)
    .option('--json', 'print JSON instead of a table', false)
    .option('--quiet', 'no progress output', false)
    .addHelpText('after', '\nExamples:\n  neumatc bench\n  neumatc bench --sizes 256,512 --batch 200 --json\n\nThe full paper-table suite is `npm run bench` in a checkout.')
    .action(async (o: BenchOptions) => benchCommand(o))
  cmd
    .command('predict')
    .description("evaluate a saved model at parameters; prints the result components as JSON")
    .argument('<model>', 'a model file written by `neumatc train` or model.save()')
    .requiredOption('--params <list>', 'comma-separated parameters, batch * paramDim numbers (e.g. 0.1,0.5,0.9)', paramsArg)
    .option('--extrapolate', 'allow parameters outside the trained domain (with a warning)', false)
    .option('--device <name>', 'where to predict: cpu (default), cuda or cuda:N (needs the CUDA build, NEUMATC_BACKEND=cuda)')
    .option('--pretty', 'indent the JSON', false)
    .action(async (file: string, o: PredictCliOptions) => predictCommand(file, o))
  cmd
    .command('check')
    .description("a-posteriori residuals of a saved model's answers at parameters (no exact solve)")
    .argument('<model>', 'a model file')
    .requiredOption('--params <list>', 'comma-separated parameters, batch * paramDim numbers', paramsArg)
    .option('--probes <k>', 'estimate the norms with k random probes instead of exactly', intArg(1))
    .option('--extrapolate', 'allow parameters outside the trained domain (with a warning)', false)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (file: string, o: { params: Float64Array; extrapolate: boolean; probes?: number; json: boolean }) => checkCommand(file, o))
  cmd
    .command('info')
    .description("a model file's metadata: format, operation, shapes, family, domain, training report")
    .argument('<model>', 'a model file')
    .option('--json', 'print the whole metadata as JSON', false)
    .action((file: string, o: { json: boolean }) => infoCommand(file, o))
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
      return e.code === 'INTERNAL' ? 2 : 1
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
