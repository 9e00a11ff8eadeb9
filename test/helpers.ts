import { expect } from 'vitest'
import { type ErrorCode, Family, NeuMatCError } from '../ts/index.js'

/** A seeded uniform PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` parameters uniform in the family's domain. */
export function uniformParams(fam: Family, count: number, seed: number): Float64Array {
  const next = rng(seed)
  const { lo, hi } = fam.domain
  const k = fam.paramDim
  const out = new Float64Array(count * k)
  for (let i = 0; i < count; i++) for (let j = 0; j < k; j++) out[i * k + j] = lo[j] + (hi[j] - lo[j]) * next()
  return out
}

/** Asserts that `fn` throws a NeuMatCError of `Class` with `code`, and returns it. */
export function expectThrowsCode<T extends NeuMatCError>(
  fn: () => unknown,
  Class: abstract new (...args: never[]) => T,
  code: ErrorCode,
): T {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught, 'expected a throw').toBeInstanceOf(Class)
  expect((caught as NeuMatCError).code).toBe(code)
  return caught as T
}

/** Asserts that `promise` rejects with a NeuMatCError of `Class` with `code`, and returns it. */
export async function expectRejectsCode<T extends NeuMatCError>(
  promise: Promise<unknown>,
  Class: abstract new (...args: never[]) => T,
  code: ErrorCode,
): Promise<T> {
  let caught: unknown
  try {
    await promise
  } catch (e) {
    caught = e
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(Class)
  expect((caught as NeuMatCError).code).toBe(code)
  return caught as T
}

/** `data` of a well-conditioned random n×n matrix batch (diagonally dominant). */
export function randomMatrices(batch: number, n: number, seed: number): Float64Array {
  const next = rng(seed)
  const data = new Float64Array(batch * n * n)
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) data[(b * n + i) * n + j] = next() - 0.5 + (i === j ? n : 0)
  return data
}

/** Row-major product of two n×n matrices. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n)
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j]
    }
  return c
}

/**
 * `A(p) = D + 0.3 (cos(2πp) S₁ + sin(2πp) S₂)` with `D = diag(1, …, n)` and `S₁, S₂` symmetric
 * (entries uniform, scaled by √(6/n)/2), sampled on a `grid`-point grid of [0, 1]: symmetric positive
 * definite with well separated eigenvalues, so its Cholesky factor, eigenvectors and thin SVD are all
 * smooth in `p` (the engine's tests/ops.rs family). Known only on its grid: {@link gridParams} gives
 * held-out grid points.
 */
export function spdFamily(n: number, grid = 201, seed = 5): Family {
  const next = rng(seed)
  const sym = () => {
    const g = Array.from({ length: n * n }, () => next() - 0.5)
    return Float64Array.from({ length: n * n }, (_, i) => ((g[i] + g[(i % n) * n + Math.floor(i / n)]) * Math.sqrt(6 / n)) / 2)
  }
  const s1 = sym()
  const s2 = sym()
  const params = Float64Array.from({ length: grid }, (_, i) => i / (grid - 1))
  const data = new Float64Array(grid * n * n)
  for (let k = 0; k < grid; k++) {
    const c = Math.cos(2 * Math.PI * params[k])
    const s = Math.sin(2 * Math.PI * params[k])
    for (let i = 0; i < n * n; i++) {
      const diag = Math.floor(i / n) === i % n ? Math.floor(i / n) + 1 : 0
      data[k * n * n + i] = diag + 0.3 * (c * s1[i] + s * s2[i])
    }
  }
  return Family.fromSamples({ paramDim: 1, params, matrices: { batch: grid, rows: n, cols: n, data } })
}

/** `count` points of the `grid`-point grid of [0, 1] of {@link spdFamily}, spread out and off its ends. */
export function gridParams(count: number, grid = 201): Float64Array {
  const step = Math.floor((grid - 1) / count)
  return Float64Array.from({ length: count }, (_, i) => (step * i + Math.floor(step / 2)) / (grid - 1))
}

/** Row-major product of an `m × k` and a `k × n` matrix, either operand optionally transposed. */
export function gemm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  { ta = false, tb = false }: { ta?: boolean; tb?: boolean } = {},
): Float64Array {
  const c = new Float64Array(m * n)
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let t = 0; t < k; t++) s += (ta ? a[t * m + i] : a[i * k + t]) * (tb ? b[j * k + t] : b[t * n + j])
      c[i * n + j] = s
    }
  return c
}

/** Largest absolute entry of `x − y`. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]))
  return worst
}

/** Largest absolute entry. */
export function maxAbs(x: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]))
  return worst
}

/** Largest entry of `|XᵀX − I|` for an `m × r` matrix `X`. */
export function orthonormalityError(x: ArrayLike<number>, m: number, r: number): number {
  const xtx = gemm(x, x, r, m, r, { ta: true })
  let worst = 0
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) worst = Math.max(worst, Math.abs(xtx[i * r + j] - (i === j ? 1 : 0)))
  return worst
}
