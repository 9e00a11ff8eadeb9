/**
 * Property-based tests of the TypeScript boundary (fast-check): whatever a caller passes, every
 * public entry either works or throws a TypeError, a RangeError or a coded NeuMatCError — never a
 * crash, a hang or an uncoded error. Seeds are fixed so CI is reproducible; each property prints
 * the number of inputs it tried.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Family, NeuMatC, NeuMatCError, baselines } from '../ts/index.js'

const SEED = 20261125
const RUNS = 400
let model: NeuMatC<'inverse'>
let fam: Family
let dir: string
let valid: Buffer
const tried: Record<string, number> = {}

beforeAll(async () => {
  fam = Family.synthetic({ n: 6, rank: 2, seed: 1 })
  model = await NeuMatC.train(fam, 'inverse', { steps: 30, seed: 1, sampling: { supervised: 8, collocation: 8, candidates: 16 } })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-fuzz-'))
  const f = path.join(dir, 'valid.neumatc')
  model.saveSync(f)
  valid = fs.readFileSync(f)
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
  process.stderr.write(`fuzz inputs tried (seed ${SEED}): ${JSON.stringify(tried)}\n`)
})

/** Runs `fn`; passes if it returns or throws an expected error kind. */
function wellBehaved(fn: () => unknown): boolean {
  try {
    fn()
    return true
  } catch (e) {
    if (e instanceof NeuMatCError) return typeof e.code === 'string' && e.code !== 'INTERNAL'
    return e instanceof TypeError || e instanceof RangeError
  }
}

function property<T>(name: string, arb: fc.Arbitrary<T>, check: (v: T) => boolean): void {
  tried[name] = 0
  fc.assert(
    fc.property(arb, (v) => {
      tried[name]++
      return check(v)
    }),
    { seed: SEED, numRuns: RUNS },
  )
}

const number = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, -1e-320, 0.5, 1, 0),
  fc.integer({ min: -1e6, max: 1e6 }),
)
const anything = fc.oneof(fc.anything(), number, fc.string(), fc.constant(undefined), fc.constant(null))
const small = fc.oneof(fc.integer({ min: -3, max: 24 }), fc.double({ max: 24 }), fc.string(), fc.constant(null), fc.constant(Number.NaN))

describe('fuzzing the public API boundary', () => {
  it('predict / check / refine with arbitrary parameter arrays and options', () => {
    property(
      'predict',
      fc.tuple(fc.array(number, { maxLength: 12 }), fc.oneof(fc.constant(undefined), fc.record({ extrapolate: anything }, { requiredKeys: [] }))),
      ([ps, opts]) => wellBehaved(() => model.predictSync(Float64Array.from(ps), opts as never)),
    )
    property(
      'check',
      fc.tuple(fc.array(number, { maxLength: 6 }), fc.record({ probes: anything, extrapolate: anything }, { requiredKeys: [] })),
      ([ps, opts]) => wellBehaved(() => model.checkSync(Float64Array.from(ps), opts as never)),
    )
    property(
      'refine',
      fc.tuple(fc.array(number, { maxLength: 4 }), fc.array(number, { maxLength: 14 }), fc.record({ tol: anything, maxIter: anything }, { requiredKeys: [] })),
      ([ps, b, opts]) => wellBehaved(() => model.refineSync(Float64Array.from(ps), Float64Array.from(b), opts as never)),
    )
  })

  it('families and baselines with arbitrary options and matrices', () => {
    property(
      'synthetic',
      // Sizes stay small (a valid n = 16384 would build gigabytes); every other value is arbitrary.
      fc.record({ n: small, rank: small, eps: anything, seed: anything, decay: anything }, { requiredKeys: [] }),
      (o) => wellBehaved(() => Family.synthetic(o as never).at(Float64Array.of(0.5))),
    )
    property(
      'baselines',
      fc.record({ batch: fc.oneof(fc.nat(4), anything), rows: fc.oneof(fc.nat(5), anything), cols: fc.oneof(fc.nat(5), anything), data: fc.array(number, { maxLength: 40 }) }),
      (m) => {
        const batch = { ...m, data: Float64Array.from(m.data) } as never
        return wellBehaved(() => baselines.inverseSync(batch)) && wellBehaved(() => baselines.svdSync(batch))
      },
    )
  })

  it('NeuMatC.loadSync on mutated model files', () => {
    const f = path.join(dir, 'mutated.neumatc')
    property(
      'load',
      fc.tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom('overwrite', 'truncate', 'insert')),
      ([pos, bytes, how]) => {
        let out: Buffer
        if (how === 'truncate') out = valid.subarray(0, pos)
        else if (how === 'insert') out = Buffer.concat([valid.subarray(0, pos), bytes, valid.subarray(pos)])
        else {
          out = Buffer.from(valid)
          out.set(bytes.subarray(0, Math.max(0, out.length - pos)), Math.min(pos, out.length))
        }
        fs.writeFileSync(f, out)
        return wellBehaved(() => NeuMatC.loadSync(f))
      },
    )
    expect(tried.load).toBe(RUNS)
  })
})
