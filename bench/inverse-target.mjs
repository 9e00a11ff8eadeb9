// The foundation issue's targets, measured end to end through the Node API:
// synthetic family n = 256, rank 20, 40 supervised samples, 100 held-out parameters, CPU.
// Held-out RelErr_inv, training seconds, inference time per matrix at batch 1 and 100 against the
// project's LU baseline and NumPy's inv on the same matrices in the same run.
//
//   node bench/inverse-target.mjs [--n 256] [--seeds 3] [--quick] [--options '{"accuracy":1e-5}'] [--out bench/results]
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setupPython } from './python.mjs'

const require = createRequire(import.meta.url)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { Family, NeuMatC, baselines, metrics } = require(path.join(root, 'dist/index.js'))

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}
const quick = args.includes('--quick')
const n = Number(opt('n', 256))
const seeds = Number(opt('seeds', quick ? 1 : 3))
const outDir = path.resolve(opt('out', path.join(root, 'bench/results')))
const testCount = 100
const trainOptions = JSON.parse(opt('options', '{}'))

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
// Runs are separated by one untimed event-loop turn, as calls are in an application: it lets the GC
// hand freed result buffers back to the addon for reuse (both NeuMatC and LU results).
const turn = () => new Promise((resolve) => setImmediate(resolve))
async function timeMedian(fn, reps, warmup = 2) {
  for (let i = 0; i < warmup; i++) {
    fn()
    await turn()
  }
  const ts = []
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint()
    fn()
    ts.push(Number(process.hrtime.bigint() - t) / 1e9)
    await turn()
  }
  return median(ts)
}
function heldOut(seed) {
  // Deterministic, not the training design: a golden-ratio sequence in (0, 1).
  return Float64Array.from({ length: testCount }, (_, i) => (0.5 + (i + 1) * 0.6180339887498949 + seed * 0.1234) % 1)
}

const python = setupPython(root)
const rows = []
for (let seed = 0; seed < seeds; seed++) {
  const fam = Family.synthetic({ n, rank: 20, eps: 1, seed })
  const t0 = process.hrtime.bigint()
  const model = await NeuMatC.train(fam, 'inverse', { seed, ...trainOptions })
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  const p = heldOut(seed)
  const A = fam.at(p)
  const A1 = fam.at(p.subarray(0, 1))
  const pred = model.predictSync(p)
  const relErr = metrics.relErrInverse(A, pred.inverse)
  const exact = baselines.inverseSync(A)
  const luRelErr = metrics.relErrInverse(A, exact)
  const reps = quick ? 5 : 15
  const model1 = await timeMedian(() => model.predictSync(p.subarray(0, 1)), reps * 4)
  const model100 = (await timeMedian(() => model.predictSync(p), reps)) / testCount
  const lu1 = await timeMedian(() => baselines.inverseSync(A1), reps * 4)
  const lu100 = (await timeMedian(() => baselines.inverseSync(A), reps)) / testCount
  let numpy = null
  if (python) {
    const file = path.join(os.tmpdir(), `neumatc-bench-${process.pid}.f64`)
    writeFileSync(file, Buffer.from(A.data.buffer, A.data.byteOffset, A.data.byteLength))
    try {
      numpy = JSON.parse(execFileSync(python, [path.join(root, 'bench/numpy_inverse.py'), file, String(testCount), String(n)]).toString())
    } finally {
      rmSync(file, { force: true })
    }
  }
  const row = {
    seed, n, trainSeconds, relErr, luRelErr, report: model.report,
    msPerMatrix: { model1: model1 * 1e3, model100: model100 * 1e3, lu1: lu1 * 1e3, lu100: lu100 * 1e3,
      numpy1: numpy ? numpy.perMatrix1 * 1e3 : null, numpy100: numpy ? numpy.perMatrixBatch * 1e3 : null },
    numpy,
  }
  rows.push(row)
  console.log(`seed ${seed}: train ${trainSeconds.toFixed(1)} s, d = ${model.report.latentDim}, held-out RelErr_inv ${relErr.toExponential(2)}; ` +
    `ms/matrix @100: NeuMatC ${row.msPerMatrix.model100.toFixed(4)}, LU ${row.msPerMatrix.lu100.toFixed(3)}` +
    (numpy ? `, NumPy ${row.msPerMatrix.numpy100.toFixed(3)}` : '') + `; @1: NeuMatC ${row.msPerMatrix.model1.toFixed(3)}, LU ${row.msPerMatrix.lu1.toFixed(3)}`)
}

const agg = (f) => median(rows.map(f))
const summary = {
  n, seeds, heldOut: testCount,
  trainSeconds: agg((r) => r.trainSeconds),
  relErr: agg((r) => r.relErr),
  relErrMax: Math.max(...rows.map((r) => r.relErr)),
  msPerMatrix: Object.fromEntries(Object.keys(rows[0].msPerMatrix).map((k) => [k, rows[0].msPerMatrix[k] === null ? null : agg((r) => r.msPerMatrix[k])])),
}
summary.speedupVsLu100 = summary.msPerMatrix.lu100 / summary.msPerMatrix.model100
summary.speedupVsLu1 = summary.msPerMatrix.lu1 / summary.msPerMatrix.model1
summary.speedupVsNumpy100 = summary.msPerMatrix.numpy100 ? summary.msPerMatrix.numpy100 / summary.msPerMatrix.model100 : null
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`, node: process.version, rayonThreads: process.env.RAYON_NUM_THREADS ?? 'all cores',
  numpy: rows[0].numpy ? `${rows[0].numpy.version} (${rows[0].numpy.blas})` : 'not available',
}
const result = { benchmark: 'inverse-target', date: new Date().toISOString(), machine, summary, rows }
mkdirSync(outDir, { recursive: true })
const stamp = new Date().toISOString().slice(0, 10)
const optTag = Object.keys(trainOptions).length ? '-' + Object.entries(trainOptions).map(([k, v]) => `${k}${v}`).join('-').replace(/[^A-Za-z0-9_.-]/g, '') : ''
const tag = `${stamp}-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '') || 'machine'}-inverse-n${n}${optTag}${quick ? '-quick' : ''}`
writeFileSync(path.join(outDir, `${tag}.json`), JSON.stringify(result, null, 2) + '\n')
const f = (x, d = 3) => (x === null || x === undefined ? '—' : Math.abs(x) < 1e-3 && x !== 0 ? Number(x).toExponential(d - 1) : Number(x).toPrecision(d))
const md = `# Inverse, synthetic family n = ${n} (${seeds} seed${seeds > 1 ? 's' : ''}, ${testCount} held-out parameters each)

Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, ${machine.platform}; Node ${machine.node}; NumPy ${machine.numpy}.
Command: \`node bench/inverse-target.mjs${quick ? ' --quick' : ''} --n ${n} --seeds ${seeds}${Object.keys(trainOptions).length ? ` --options '${JSON.stringify(trainOptions)}'` : ''}\` (medians over seeds; times are medians after warm-up).

| method | ms/matrix @1 | ms/matrix @100 | held-out RelErr_inv |
| --- | --- | --- | --- |
| NeuMatC (${Object.keys(trainOptions).length ? JSON.stringify(trainOptions) : 'default options'}, f32) | ${f(summary.msPerMatrix.model1)} | ${f(summary.msPerMatrix.model100)} | ${f(summary.relErr)} (worst seed ${f(summary.relErrMax)}) |
| LU (faer, f64) | ${f(summary.msPerMatrix.lu1)} | ${f(summary.msPerMatrix.lu100)} | ${f(agg((r) => r.luRelErr))} |
| NumPy inv (f64) | ${f(summary.msPerMatrix.numpy1)} | ${f(summary.msPerMatrix.numpy100)} | ${rows[0].numpy ? f(agg((r) => r.numpy.relErr)) : '—'} |

Training: ${f(summary.trainSeconds)} s (median), latent dimension ${rows.map((r) => r.report.latentDim).join('/')}, condition numbers of A(p) at the samples ${rows.map((r) => `${f(r.report.conditionMin)}–${f(r.report.conditionMax)}`).join(', ')}.
Speed-up at batch 100: ${f(summary.speedupVsLu100)}× vs LU${summary.speedupVsNumpy100 ? `, ${f(summary.speedupVsNumpy100)}× vs NumPy` : ''}; at batch 1: ${f(summary.speedupVsLu1)}× vs LU.
`
writeFileSync(path.join(outDir, `${tag}.md`), md)
console.log('\n' + md)
console.log(`wrote ${path.join(outDir, tag)}.{json,md}`)
