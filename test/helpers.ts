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
