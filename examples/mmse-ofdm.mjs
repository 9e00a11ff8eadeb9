// MMSE equalisation of one OFDM symbol over a 3GPP CDL-A channel at 28 GHz, with the exact inverse of
// A(k) = H(k)ᴴH(k) + σ²I at every subcarrier k against a learned inverse trained on a few of them.
//
// The channel H(k) (nr × nt, Family.cdl with `subcarriers`) and the Gram matrices A(k) are evaluated
// at every subcarrier; a model of k ↦ A(k)⁻¹ is trained from those samples (Family.fromSamples) with
// exact inverses at only `--supervised` of them. One OFDM symbol of random QAM symbols x(k) ∈ Cⁿᵗ is
// sent, y(k) = H(k) x(k) + n(k), and equalised as x̂(k) = A(k)⁻¹ H(k)ᴴ y(k) with either inverse.
// Prints the symbol error rates, RelErr_inv of the learned inverses and the time of both inverses.
//
//   node examples/mmse-ofdm.mjs                                     # 1024 subcarriers, 4 streams, 8 rx, 16-QAM
//   node examples/mmse-ofdm.mjs --subcarriers 256 --supervised 32   # a few seconds
//   node examples/mmse-ofdm.mjs --tx-rows 2 --rx-rows 2              # UPAs: 2 × 2 transmit, 2 × 4 receive
//   node examples/mmse-ofdm.mjs --qam 64 --snr 30                    # (or QAM=64 SNR=30)
//
// Options: --subcarriers N (1024), --spacing Δf in Hz (120e3), --nt (4), --nr (8), --tx-rows and
// --rx-rows (1: ULAs; the arrays are rows × n/rows), --snr dB per receive antenna (20), --ds delay
// spread in s (10e-9), --qam 4|16|64 (16), --supervised exact inverses in training (64), --seed (1),
// --ser-tol the largest SER excess of the learned inverse over the exact one (0.01).
//
// What decides whether the learned inverse is good is how fast A(k)⁻¹ turns along the band: about
// bandwidth × the longest cluster delay (≈ 9.7 · DS for CDL-A) turns. The defaults (123 MHz, 10 ns)
// learn to RelErr_inv ~1e-6 from 64 subcarriers; at DS 30 ns, 4 streams need --supervised 128 (~1e-2),
// and 8 × 8 over 1024 subcarriers is not learned at all (RelErr_inv > 1) while 256 of them are. With
// 8 streams on 8 receive antennas the channel itself is too ill-conditioned for 16-QAM (exact SER ~0.4).
import { setImmediate as nextTurn } from 'node:timers/promises'
import { Family, NeuMatC, baselines, metrics } from 'neumatc'
import { option } from './options.cjs'

const subcarriers = option('subcarriers', 1024)
const spacing = option('spacing', 120e3)
const nt = option('nt', 4)
const nr = option('nr', 8)
const txRows = option('tx-rows', 1)
const rxRows = option('rx-rows', 1)
const snrDb = option('snr', 20)
const delaySpread = option('ds', 10e-9)
const qam = option('qam', 16)
const supervised = option('supervised', 64)
const seed = option('seed', 1)
const serTol = option('ser-tol', 0.01)

const levels = Math.round(Math.sqrt(qam))
if (![4, 16, 64].includes(qam)) throw new RangeError(`--qam must be 4, 16 or 64, got ${qam}`)
for (const [name, n, rows] of [['nt', nt, txRows], ['nr', nr, rxRows]]) {
  if (!Number.isInteger(n / rows)) throw new RangeError(`--${name} ${n} is not a multiple of its array's rows (${rows})`)
}

/** Median milliseconds of `reps` calls after one warm-up, each call in its own event-loop turn. */
async function time(fn, reps = 5) {
  await fn()
  const ms = []
  for (let i = 0; i < reps; i++) {
    await nextTurn()
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  return ms.sort((a, b) => a - b)[reps >> 1]
}

/** A seeded uniform generator on [0, 1) (mulberry32), so that a run is reproducible. */
function uniform(s) {
  let a = (s >>> 0) ^ 0x9e3779b9
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = uniform(seed)
/** A standard normal sample (Box–Muller). */
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())

// --- 1. The channel and the MMSE Gram matrices at every subcarrier --------------------------------
const cdl = {
  profile: 'A',
  delaySpread,
  carrier: 28e9,
  subcarriers,
  subcarrierSpacing: spacing,
  rx: { rows: rxRows, cols: nr / rxRows, spacing: 0.5 },
  tx: { rows: txRows, cols: nt / txRows, spacing: 0.5 },
  snrDb,
  seed,
}
const H = Family.cdl({ ...cdl, form: 'channel' })
const G = Family.cdl({ ...cdl, form: 'gram' })
const sigma2 = G.describe().noiseVariance // the families' noise variance per receive antenna, nt·10^(−SNR/10)
const ks = Float64Array.from({ length: subcarriers }, (_, k) => k)
const Hk = H.at(ks) // (N, nr, nt)
const A = G.at(ks) // (N, nt, nt): H(k)ᴴH(k) + σ²I
console.log(
  `CDL-${cdl.profile}, DS ${(delaySpread * 1e9).toFixed(0)} ns, 28 GHz, ${subcarriers} subcarriers × ` +
    `${(spacing / 1e3).toFixed(0)} kHz = ${((subcarriers * spacing) / 1e6).toFixed(1)} MHz; ` +
    `nt = ${nt} (${txRows}×${nt / txRows}), nr = ${nr} (${rxRows}×${nr / rxRows}); ` +
    `SNR ${snrDb} dB (σ² = ${sigma2.toPrecision(3)}); ${qam}-QAM`,
)

// The Gram family is H(k)ᴴH(k) + σ²I of the channel family: check it (and σ²) here.
let gramDev = 0
let gramScale = 0
for (let b = 0; b < subcarriers; b++) {
  for (let i = 0; i < nt; i++) {
    for (let j = 0; j < nt; j++) {
      let re = i === j ? sigma2 : 0
      let im = 0
      for (let r = 0; r < nr; r++) {
        const u = (b * nr + r) * nt
        // conj(H[r, i]) H[r, j]
        re += Hk.re[u + i] * Hk.re[u + j] + Hk.im[u + i] * Hk.im[u + j]
        im += Hk.re[u + i] * Hk.im[u + j] - Hk.im[u + i] * Hk.re[u + j]
      }
      const o = (b * nt + i) * nt + j
      gramDev = Math.max(gramDev, Math.hypot(A.re[o] - re, A.im[o] - im))
      gramScale = Math.max(gramScale, Math.hypot(re, im))
    }
  }
}
console.log(`Gram family vs HᴴH + σ²I from the channel family: max deviation ${(gramDev / gramScale).toExponential(1)} (relative)`)

// --- 2. Learn k ↦ A(k)⁻¹ from the samples, with exact inverses at a few subcarriers ---------------
const fam = Family.fromSamples({ paramDim: 1, params: ks, matrices: A })
const model = await NeuMatC.train(fam, 'inverse', { seed, sampling: { supervised } })
const r = model.report
const heldOut = r.heldOutRelErr === null ? 'n/a' : r.heldOutRelErr.toExponential(2)
console.log(
  `trained in ${r.seconds.toFixed(2)} s: ${r.supervised} exact inverses (${((100 * r.supervised) / subcarriers).toFixed(1)} % of the ` +
    `subcarriers), d = ${r.latentDim}, cond(A) ${r.conditionMin.toFixed(1)}…${r.conditionMax.toFixed(1)}, ` +
    `held-out RelErr_inv ${heldOut} (${r.heldOutCount} subcarriers)`,
)
for (const w of r.warnings) console.log(`warning: ${w}`)

// --- 3. One OFDM symbol: QAM symbols through the channel, plus noise -------------------------------
// Square M-QAM, levels ±1, ±3, … per dimension, scaled to unit average power.
const qamScale = Math.sqrt((2 * (qam - 1)) / 3)
const level = (i) => (2 * i - (levels - 1)) / qamScale
const decide = (v) => Math.min(levels - 1, Math.max(0, Math.round((v * qamScale + levels - 1) / 2)))
const symbols = subcarriers * nt
const sent = new Int32Array(symbols) // symbol index per (k, stream): re level + levels · im level
const xRe = new Float64Array(symbols)
const xIm = new Float64Array(symbols)
for (let s = 0; s < symbols; s++) {
  const i = Math.floor(rand() * levels)
  const q = Math.floor(rand() * levels)
  sent[s] = i + levels * q
  xRe[s] = level(i)
  xIm[s] = level(q)
}
const yRe = new Float64Array(subcarriers * nr)
const yIm = new Float64Array(subcarriers * nr)
const noiseStd = Math.sqrt(sigma2 / 2) // per real dimension
for (let b = 0; b < subcarriers; b++) {
  for (let rr = 0; rr < nr; rr++) {
    let re = noiseStd * gauss()
    let im = noiseStd * gauss()
    for (let t = 0; t < nt; t++) {
      const h = (b * nr + rr) * nt + t
      const x = b * nt + t
      re += Hk.re[h] * xRe[x] - Hk.im[h] * xIm[x]
      im += Hk.re[h] * xIm[x] + Hk.im[h] * xRe[x]
    }
    yRe[b * nr + rr] = re
    yIm[b * nr + rr] = im
  }
}

// Matched filter z(k) = H(k)ᴴ y(k), shared by both equalisers.
const zRe = new Float64Array(symbols)
const zIm = new Float64Array(symbols)
for (let b = 0; b < subcarriers; b++) {
  for (let t = 0; t < nt; t++) {
    let re = 0
    let im = 0
    for (let rr = 0; rr < nr; rr++) {
      const h = (b * nr + rr) * nt + t
      const y = b * nr + rr
      re += Hk.re[h] * yRe[y] + Hk.im[h] * yIm[y]
      im += Hk.re[h] * yIm[y] - Hk.im[h] * yRe[y]
    }
    zRe[b * nt + t] = re
    zIm[b * nt + t] = im
  }
}

/** Decisions of x̂(k) = Ginv(k) z(k) at every subcarrier, as symbol indices. */
function equalise(Ginv) {
  const out = new Int32Array(symbols)
  for (let b = 0; b < subcarriers; b++) {
    for (let i = 0; i < nt; i++) {
      let re = 0
      let im = 0
      for (let j = 0; j < nt; j++) {
        const g = (b * nt + i) * nt + j
        const z = b * nt + j
        re += Ginv.re[g] * zRe[z] - Ginv.im[g] * zIm[z]
        im += Ginv.re[g] * zIm[z] + Ginv.im[g] * zRe[z]
      }
      // The MMSE estimate is shrunk by (A⁻¹HᴴH)_ii = 1 − σ²(A⁻¹)_ii: undo that before deciding.
      const bias = 1 - sigma2 * Ginv.re[(b * nt + i) * nt + i]
      out[b * nt + i] = decide(re / bias) + levels * decide(im / bias)
    }
  }
  return out
}

// --- 4. Equalise with the exact and with the learned inverses --------------------------------------
const exact = await baselines.inverse(A)
const { inverse: learned } = await model.predict(ks)
const decExact = equalise(exact)
const decLearned = equalise(learned)
let errExact = 0
let errLearned = 0
let differ = 0
for (let s = 0; s < symbols; s++) {
  if (decExact[s] !== sent[s]) errExact++
  if (decLearned[s] !== sent[s]) errLearned++
  if (decExact[s] !== decLearned[s]) differ++
}
const serExact = errExact / symbols
const serLearned = errLearned / symbols
const relErr = metrics.relErrInverse(A, learned)

// --- 5. Time both inverses over all subcarriers ----------------------------------------------------
const msExact = await time(() => baselines.inverse(A))
const msLearned = await time(() => model.predict(ks))

console.log(`one OFDM symbol, ${symbols} ${qam}-QAM symbols (${subcarriers} subcarriers × ${nt} streams):`)
console.log(`  exact   A⁻¹ (LU)  SER ${serExact.toFixed(4)} (${errExact} errors)   ${msExact.toFixed(2)} ms for ${subcarriers} inverses`)
console.log(
  `  learned Ĝ         SER ${serLearned.toFixed(4)} (${errLearned} errors)   ${msLearned.toFixed(2)} ms for ${subcarriers} inverses ` +
    `(${learned.re.constructor.name})`,
)
console.log(`  decisions that differ: ${differ} of ${symbols}; RelErr_inv of Ĝ over all subcarriers ${relErr.toExponential(2)}`)
console.log(`  speed-up of the inverses ${(msExact / msLearned).toFixed(1)}x`)

const failures = []
if (!Number.isFinite(relErr)) failures.push(`RelErr_inv is ${relErr}`)
if (serLearned > serExact + serTol) {
  failures.push(`the learned SER ${serLearned.toFixed(4)} exceeds the exact SER ${serExact.toFixed(4)} by more than ${serTol}`)
}
if (failures.length > 0) {
  for (const f of failures) console.log(`FAIL: ${f}`)
  process.exitCode = 1
} else {
  console.log(`ok: SER ${serLearned.toFixed(4)} ≤ ${serExact.toFixed(4)} + ${serTol}, RelErr_inv finite`)
}
