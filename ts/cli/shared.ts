/**
 * What the commands share: the built-in families and their options, argument parsers, timing, tables and the progress bar.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { SingleBar, Presets } from 'cli-progress'
import {
  Family,
  NeuMatC,
  OPERATIONS,
  baselines,
  type Components,
  type MatrixBatch,
  type Operation,
  type Progress,
  type TrainOptions,
} from '../index.js'

/** The built-in families `demo` can train on. */
export const FAMILIES = ['synthetic', 'spdFourier', 'controlledRank'] as const
export type FamilyKind = (typeof FAMILIES)[number]

/** Options of `neumatc demo`. */
export interface DemoOptions {
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
export interface Setup {
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
export interface MethodResult {
  method: string
  msPerMatrixAt1: number
  msPerMatrixAtN: number
  relErr: number
}

export function intArg(min: number) {
  return (value: string): number => {
    const v = Number(value)
    if (!Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`expected an integer >= ${min}`)
    return v
  }
}

export function floatArg(value: string): number {
  const v = Number(value)
  if (!Number.isFinite(v)) throw new InvalidArgumentError('expected a finite number')
  return v
}

/** mulberry32: a small seeded PRNG, so held-out parameters are reproducible. */
export function rng(seed: number): () => number {
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
export function heldOutParams(fam: Family, count: number, seed: number): Float64Array {
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
export function setup(opts: DemoOptions, rankGiven: boolean): Setup {
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
export const EXACT: { [Op in Operation]: { name: string; short: string; run: (A: MatrixBatch<Float64Array>, s: Setup, rank?: number) => Components<Op, Float64Array> } } = {
  inverse: { name: 'LU (exact, f64)', short: 'LU', run: (A) => ({ inverse: baselines.inverseSync(A) }) },
  solve: { name: 'LU solve (exact, f64)', short: 'LU solve', run: (A, s) => ({ x: baselines.solveSync(A, s.rhs as Float64Array) }) },
  svd: { name: 'SVD (exact, f64)', short: 'SVD', run: (A, _s, rank) => baselines.svdSync(A, { rank }) },
  qr: { name: 'QR (exact, f64)', short: 'QR', run: (A) => baselines.qrSync(A) },
  cholesky: { name: 'Cholesky (exact, f64)', short: 'Cholesky', run: (A) => ({ L: baselines.choleskySync(A) }) },
  eigh: { name: 'eigh (exact, f64)', short: 'eigh', run: (A) => baselines.eighSync(A) },
  expm: { name: 'expm (Padé, f64)', short: 'expm', run: (A) => ({ expm: baselines.expmSync(A) }) },
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Median wall time in ms of `fn` over `runs` runs after `warmup` untimed runs. Runs are separated by
 * one event-loop turn (untimed), as calls are in an application: it lets the GC hand freed result
 * buffers back to the addon for reuse.
 */
export async function timeMs(fn: (run: number) => void, runs: number, warmup = 2): Promise<number> {
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

export function sliceBatch(A: MatrixBatch<Float64Array>, i: number): MatrixBatch<Float64Array> {
  const size = A.rows * A.cols
  return { batch: 1, rows: A.rows, cols: A.cols, data: A.data.subarray(i * size, (i + 1) * size) }
}

export function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined || !Number.isFinite(v)) return '—'
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2)
  return v.toFixed(digits)
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/**
 * Trains with a progress bar on stderr (a TTY; phase lines otherwise, nothing with `--quiet` or
 * `--json`). Ctrl-C cancels the training cleanly (the promise rejects with `CANCELLED`); a second
 * Ctrl-C quits at once.
 */
export async function trainWithProgress(
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

/** `--params 0.1,0.2,…`: `batch * paramDim` numbers, flattened. */
export function paramsArg(value: string): Float64Array {
  const parts = value.split(',').map((v) => v.trim())
  const out = Float64Array.from(parts, Number)
  if (parts.some((v) => v === '') || out.some((v) => !Number.isFinite(v))) {
    throw new InvalidArgumentError('expected comma-separated finite numbers, e.g. 0.1,0.25,0.9')
  }
  return out
}

export function checkParamCount(params: Float64Array, model: NeuMatC): void {
  if (params.length % model.paramDim !== 0) {
    throw new RangeError(`--params holds ${params.length} numbers, not a multiple of the model's parameter dimension ${model.paramDim}`)
  }
}

/**
 * The family options `demo`, `train` and `baselines` share: `--op`, `--family`, `--n`, `--rank`,
 * `--eps` and `--seed` (whose help says what the seed drives in that command).
 */
export function withFamilyOptions(command: Command, seedDrives: string): Command {
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
