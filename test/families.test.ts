import { describe, expect, it } from 'vitest'
import {
  Family,
  InvalidInputError,
  InvalidOptionError,
  OutOfDomainError,
  ShapeMismatchError,
} from '../ts/index.js'
import { expectRejectsCode, expectThrowsCode, randomMatrices } from './helpers.js'

describe('Family.synthetic', () => {
  const fam = Family.synthetic({ n: 8, rank: 3, seed: 5 })

  it('knows its shape, parameter dimension and domain', () => {
    expect(fam.rows).toBe(8)
    expect(fam.cols).toBe(8)
    expect(fam.paramDim).toBe(1)
    expect(fam.domain).toEqual({ lo: [0], hi: [1] })
    expect(fam.describe()).toMatchObject({ kind: 'synthetic' })
  })

  it('evaluates A(p) for a batch, row-major and batch-major', () => {
    const A = fam.at(Float64Array.of(0.1, 0.2, 0.1))
    expect(A.batch).toBe(3)
    expect(A.rows).toBe(8)
    expect(A.cols).toBe(8)
    expect(A.data).toBeInstanceOf(Float64Array)
    expect(A.data.length).toBe(3 * 64)
    // Same parameter -> same matrix; different parameter -> different matrix.
    expect(Array.from(A.data.subarray(128, 192))).toEqual(Array.from(A.data.subarray(0, 64)))
    expect(Array.from(A.data.subarray(64, 128))).not.toEqual(Array.from(A.data.subarray(0, 64)))
    // One matrix at a time gives the same values as the batch.
    expect(Array.from(fam.at(Float64Array.of(0.2)).data)).toEqual(Array.from(A.data.subarray(64, 128)))
    expect(A.data.every(Number.isFinite)).toBe(true)
  })

  it('is reproducible from its seed', () => {
    const p = Float64Array.of(0.37)
    const again = Family.synthetic({ n: 8, rank: 3, seed: 5 }).at(p).data
    const other = Family.synthetic({ n: 8, rank: 3, seed: 6 }).at(p).data
    expect(Array.from(again)).toEqual(Array.from(fam.at(p).data))
    expect(Array.from(other)).not.toEqual(Array.from(fam.at(p).data))
  })

  it('atAsync gives the same values as at, and copies params first', async () => {
    const p = Float64Array.of(0.25, 0.75)
    const expected = Array.from(fam.at(p).data)
    const pending = fam.atAsync(p)
    p.fill(0.5) // mutate right away: the call must have copied
    const A = await pending
    expect(A.batch).toBe(2)
    expect(Array.from(A.data)).toEqual(expected)
  })

  it('rejects parameters of the wrong type or length before calling Rust', () => {
    expect(() => fam.at([0.1] as unknown as Float64Array)).toThrow(TypeError)
    expect(() => fam.at(Float32Array.of(0.1) as unknown as Float64Array)).toThrow(TypeError)
    expect(() => fam.at(new Float64Array(0))).toThrow(RangeError)
    const fam2 = Family.fromSamples({
      paramDim: 2,
      params: Float64Array.of(0, 0, 1, 0, 0, 1),
      matrices: { batch: 3, rows: 2, cols: 2, data: randomMatrices(3, 2, 1) },
    })
    expect(() => fam2.at(Float64Array.of(0, 0, 1))).toThrow(RangeError)
  })

  it('rejects NaN and infinite parameters with a RangeError', async () => {
    expect(() => fam.at(Float64Array.of(Number.NaN))).toThrow(RangeError)
    expect(() => fam.at(Float64Array.of(0.5, Number.POSITIVE_INFINITY))).toThrow(RangeError)
    expect(() => fam.at(Float64Array.of(Number.NEGATIVE_INFINITY))).toThrow(RangeError)
    await expect(fam.atAsync(Float64Array.of(Number.NaN))).rejects.toThrow(RangeError)
  })

  it('reports parameters outside the domain as OutOfDomainError, sync and async', async () => {
    const e = expectThrowsCode(() => fam.at(Float64Array.of(0.5, 1.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
    expect(e.message).toContain('1.5')
    expectThrowsCode(() => fam.at(Float64Array.of(-0.01)), OutOfDomainError, 'OUT_OF_DOMAIN')
    await expectRejectsCode(fam.atAsync(Float64Array.of(2)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })

  it('checks option types in TS and option values in Rust', () => {
    expect(() => Family.synthetic({ n: '8' as unknown as number })).toThrow(TypeError)
    expect(() => Family.synthetic({ n: 8.5 })).toThrow(RangeError)
    expect(() => Family.synthetic({ eps: Number.NaN })).toThrow(RangeError)
    expect(() => Family.synthetic(null as unknown as object)).toThrow(TypeError)
    const e = expectThrowsCode(() => Family.synthetic({ n: 4, rank: 8 }), InvalidOptionError, 'INVALID_OPTION')
    expect(e.message).toContain('rank')
    expectThrowsCode(() => Family.synthetic({ n: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(
      () => Family.synthetic({ n: 4, bogus: 1 } as unknown as { n: number }),
      InvalidOptionError,
      'INVALID_OPTION',
    )
  })
})

describe('Family.fromSamples', () => {
  const grid = Float64Array.of(0, 0.25, 0.5, 0.75, 1)
  const data = randomMatrices(5, 3, 11)
  const fam = Family.fromSamples({ paramDim: 1, params: grid, matrices: { batch: 5, rows: 3, cols: 3, data } })

  it('takes its shape and domain from the samples', () => {
    expect(fam.rows).toBe(3)
    expect(fam.cols).toBe(3)
    expect(fam.paramDim).toBe(1)
    expect(fam.domain).toEqual({ lo: [0], hi: [1] })
    expect(fam.describe()).toMatchObject({ kind: 'samples', samples: 5 })
  })

  it('returns the stored matrices at grid parameters', () => {
    const A = fam.at(Float64Array.of(0.75, 0))
    expect(Array.from(A.data.subarray(0, 9))).toEqual(Array.from(data.subarray(27, 36)))
    expect(Array.from(A.data.subarray(9, 18))).toEqual(Array.from(data.subarray(0, 9)))
  })

  it('knows A(p) only on its grid (INVALID_INPUT elsewhere, OUT_OF_DOMAIN outside the box)', async () => {
    expectThrowsCode(() => fam.at(Float64Array.of(0.3)), InvalidInputError, 'INVALID_INPUT')
    await expectRejectsCode(fam.atAsync(Float64Array.of(0.3)), InvalidInputError, 'INVALID_INPUT')
    expectThrowsCode(() => fam.at(Float64Array.of(1.2)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })

  it('supports k-dimensional grids', () => {
    const params = Float64Array.of(0, 0, 1, 0, 0, 2, 1, 2)
    const fam2 = Family.fromSamples({ paramDim: 2, params, matrices: { batch: 4, rows: 2, cols: 2, data: randomMatrices(4, 2, 3) } })
    expect(fam2.paramDim).toBe(2)
    expect(fam2.domain).toEqual({ lo: [0, 0], hi: [1, 2] })
    expect(fam2.at(Float64Array.of(1, 2)).batch).toBe(1)
  })

  it('rejects malformed arguments before calling Rust', () => {
    const matrices = { batch: 5, rows: 3, cols: 3, data }
    expect(() => Family.fromSamples({ paramDim: 1, params: Array.from(grid) as unknown as Float64Array, matrices })).toThrow(TypeError)
    expect(() => Family.fromSamples({ paramDim: 0, params: grid, matrices })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 1.5, params: grid, matrices })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 2, params: grid, matrices })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: Float64Array.of(0, Number.NaN, 1, 2, 3), matrices })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...matrices, data: Array.from(data) as unknown as Float64Array } })).toThrow(TypeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...matrices, data: data.subarray(1) } })).toThrow(RangeError)
    expect(() => Family.fromSamples({ paramDim: 1, params: grid, matrices: { ...matrices, rows: 0 } })).toThrow(RangeError)
    expect(() => Family.fromSamples(undefined as unknown as never)).toThrow(TypeError)
  })

  it('reports inconsistent samples from Rust with their codes', () => {
    // 5 parameters but 4 matrices.
    expectThrowsCode(
      () => Family.fromSamples({ paramDim: 1, params: grid, matrices: { batch: 4, rows: 3, cols: 3, data: randomMatrices(4, 3, 1) } }),
      ShapeMismatchError,
      'SHAPE_MISMATCH',
    )
    const bad = data.slice()
    bad[7] = Number.NaN
    expectThrowsCode(
      () => Family.fromSamples({ paramDim: 1, params: grid, matrices: { batch: 5, rows: 3, cols: 3, data: bad } }),
      InvalidInputError,
      'INVALID_INPUT',
    )
    expectThrowsCode(
      () => Family.fromSamples({ paramDim: 1, params: Float64Array.of(0, 1, 1, 2, 3), matrices: { batch: 5, rows: 3, cols: 3, data } }),
      InvalidInputError,
      'INVALID_INPUT',
    )
  })

  it('accepts non-square matrices (rectangular operations); training an inverse on them fails', () => {
    const rect = Family.fromSamples({ paramDim: 1, params: Float64Array.of(0, 1), matrices: { batch: 2, rows: 2, cols: 3, data: new Float64Array(12).fill(1) } })
    expect(rect.rows).toBe(2)
    expect(rect.cols).toBe(3)
  })
})

describe('Family.spdFourier', () => {
  const fam = Family.spdFourier({ n: 8, seed: 2 })

  it('knows its shape, 2-D parameter and domain', () => {
    expect(fam.rows).toBe(8)
    expect(fam.cols).toBe(8)
    expect(fam.paramDim).toBe(2)
    expect(fam.domain).toEqual({ lo: [0, 0], hi: [1, 1] })
    expect(fam.describe()).toMatchObject({ kind: 'spdFourier', options: { n: 8, seed: 2, maxFreq: 1, eps: 1 } })
    expect(Family.spdFourier().rows).toBe(128)
  })

  it('evaluates symmetric A(p) for a batch of (p1, p2) pairs', async () => {
    const p = Float64Array.of(0.1, 0.2, 0.9, 0.4)
    const A = fam.at(p)
    expect(A.batch).toBe(2)
    expect(A.rows).toBe(8)
    expect(A.cols).toBe(8)
    expect(A.data.length).toBe(2 * 64)
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 8; i++) {
        // Diagonal of B Bᵀ + ε I is at least ε.
        expect(A.data[b * 64 + i * 9]).toBeGreaterThanOrEqual(1)
        for (let j = 0; j < i; j++) expect(A.data[b * 64 + i * 8 + j]).toBe(A.data[b * 64 + j * 8 + i])
      }
    }
    expect(Array.from(A.data.subarray(64))).not.toEqual(Array.from(A.data.subarray(0, 64)))
    expect(Array.from((await fam.atAsync(p)).data)).toEqual(Array.from(A.data))
    const again = Family.spdFourier({ n: 8, seed: 2 }).at(p).data
    expect(Array.from(again)).toEqual(Array.from(A.data))
  })

  it('rejects bad parameters: odd length in TS, outside [0, 1]² in Rust', async () => {
    expect(() => fam.at(Float64Array.of(0.5))).toThrow(RangeError)
    expect(() => fam.at(Float64Array.of(0.5, 0.5, 0.5))).toThrow(RangeError)
    expect(() => fam.at(Float64Array.of(0.5, Number.NaN))).toThrow(RangeError)
    const e = expectThrowsCode(() => fam.at(Float64Array.of(0.5, 0.5, 0.2, 1.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
    expect(e.message).toContain('1.5')
    await expectRejectsCode(fam.atAsync(Float64Array.of(-0.5, 0.5)), OutOfDomainError, 'OUT_OF_DOMAIN')
  })

  it('checks option types in TS and option values in Rust', () => {
    expect(() => Family.spdFourier({ n: '8' as unknown as number })).toThrow(TypeError)
    expect(() => Family.spdFourier({ maxFreq: 1.5 })).toThrow(RangeError)
    expect(() => Family.spdFourier({ rank: -1 })).toThrow(RangeError)
    expect(() => Family.spdFourier({ eps: Number.POSITIVE_INFINITY })).toThrow(RangeError)
    expect(() => Family.spdFourier(null as unknown as object)).toThrow(TypeError)
    const e = expectThrowsCode(() => Family.spdFourier({ n: 4, eps: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expect(e.message).toContain('eps')
    expectThrowsCode(() => Family.spdFourier({ n: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => Family.spdFourier({ n: 4, maxFreq: 99 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(
      () => Family.spdFourier({ n: 4, max_freq: 1 } as unknown as { n: number }),
      InvalidOptionError,
      'INVALID_OPTION',
    )
  })
})

describe('Family.controlledRank', () => {
  const fam = Family.controlledRank({ rows: 12, cols: 10, rank: 4, paramRank: 3, seed: 1 })

  it('knows its (rectangular) shape, parameter dimension and domain', () => {
    expect(fam.rows).toBe(12)
    expect(fam.cols).toBe(10)
    expect(fam.paramDim).toBe(1)
    expect(fam.domain).toEqual({ lo: [0], hi: [1] })
    expect(fam.describe()).toMatchObject({
      kind: 'controlledRank',
      options: { rows: 12, cols: 10, rank: 4, paramRank: 3, decay: 0.95, seed: 1 },
    })
  })

  it('evaluates H(p) for a batch, reproducibly from its seed', async () => {
    const p = Float64Array.of(0, 0.5, 1)
    const H = fam.at(p)
    expect(H.batch).toBe(3)
    expect(H.rows).toBe(12)
    expect(H.cols).toBe(10)
    expect(H.data.length).toBe(3 * 120)
    expect(H.data.every(Number.isFinite)).toBe(true)
    expect(Array.from(H.data.subarray(120, 240))).not.toEqual(Array.from(H.data.subarray(0, 120)))
    expect(Array.from((await fam.atAsync(p)).data)).toEqual(Array.from(H.data))
    const again = Family.controlledRank({ rows: 12, cols: 10, rank: 4, paramRank: 3, seed: 1 }).at(p).data
    const other = Family.controlledRank({ rows: 12, cols: 10, rank: 4, paramRank: 3, seed: 2 }).at(p).data
    expect(Array.from(again)).toEqual(Array.from(H.data))
    expect(Array.from(other)).not.toEqual(Array.from(H.data))
  })

  it('reports parameters outside [0, 1] as OutOfDomainError', async () => {
    expectThrowsCode(() => fam.at(Float64Array.of(1.01)), OutOfDomainError, 'OUT_OF_DOMAIN')
    await expectRejectsCode(fam.atAsync(Float64Array.of(-1)), OutOfDomainError, 'OUT_OF_DOMAIN')
    expect(() => fam.at(Float64Array.of(Number.NaN))).toThrow(RangeError)
  })

  it('checks option types in TS and option values in Rust', () => {
    expect(() => Family.controlledRank({ rows: '8' as unknown as number })).toThrow(TypeError)
    expect(() => Family.controlledRank({ paramRank: 2.5 })).toThrow(RangeError)
    expect(() => Family.controlledRank({ decay: Number.NaN })).toThrow(RangeError)
    expect(() => Family.controlledRank(undefined)).not.toThrow()
    const e = expectThrowsCode(
      () => Family.controlledRank({ rows: 4, cols: 6, rank: 5 }),
      InvalidOptionError,
      'INVALID_OPTION',
    )
    expect(e.message).toContain('rank')
    expectThrowsCode(() => Family.controlledRank({ rows: 4, cols: 4, rank: 2, paramRank: 0 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(() => Family.controlledRank({ rows: 4, cols: 4, rank: 2, decay: -1 }), InvalidOptionError, 'INVALID_OPTION')
    expectThrowsCode(
      () => Family.controlledRank({ rows: 4, param_rank: 2 } as unknown as { rows: number }),
      InvalidOptionError,
      'INVALID_OPTION',
    )
  })
})

describe('Family.synthetic({ spd: true })', () => {
  it('gives the symmetric positive definite H Hᵀ of the same family', () => {
    const n = 6
    const p = Float64Array.of(0.3)
    const H = Family.synthetic({ n, rank: 2, seed: 4 }).at(p).data
    const S = Family.synthetic({ n, rank: 2, seed: 4, spd: true }).at(p).data
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let want = 0
        for (let t = 0; t < n; t++) want += H[i * n + t] * H[j * n + t]
        expect(S[i * n + j]).toBeCloseTo(want, 10)
        expect(S[i * n + j]).toBe(S[j * n + i])
      }
    }
  })

  it('rejects a non-boolean spd', () => {
    expect(() => Family.synthetic({ spd: 1 as unknown as boolean })).toThrow(TypeError)
  })
})
