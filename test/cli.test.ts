import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const CLI = path.join(__dirname, '..', 'dist', 'cli.js')

function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 })
}

describe('neumatc demo (built CLI)', () => {
  it('--json prints one object with timings and errors', () => {
    const r = run('demo', '--n', '16', '--rank', '4', '--test', '10', '--runs', '3', '--json')
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.family).toMatchObject({ kind: 'synthetic', n: 16, rank: 4, paramDim: 1 })
    expect(out.test).toBe(10)
    expect(out.training.seconds).toBeGreaterThan(0)
    expect(out.training.steps).toBeGreaterThan(0)
    expect(out.training.latentDim).toBeGreaterThan(0)
    expect(out.training.report.latentDim).toBe(out.training.latentDim)
    expect(out.results).toHaveLength(2)
    const [neumatc, lu] = out.results
    expect(neumatc.method).toMatch(/NeuMatC/)
    expect(lu.method).toMatch(/LU/)
    for (const r of out.results) {
      expect(r.msPerMatrixAt1).toBeGreaterThan(0)
      expect(r.msPerMatrixAtN).toBeGreaterThan(0)
    }
    expect(neumatc.relErr).toBeLessThan(1e-4)
    expect(lu.relErr).toBeLessThan(1e-20)
    expect(out.speedup.atN).toBeCloseTo(lu.msPerMatrixAtN / neumatc.msPerMatrixAtN, 6)
    expect(out.conditionNumber.min).toBeGreaterThanOrEqual(1)
    expect(out.conditionNumber.max).toBeGreaterThanOrEqual(out.conditionNumber.min)
    expect(out.machine.cpus).toBeGreaterThan(0)
  })

  it('prints a table by default', () => {
    const r = run('demo', '--n', '8', '--rank', '2', '--test', '5', '--runs', '2', '--quiet')
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/method\s+ms\/matrix @1\s+ms\/matrix @5\s+RelErr_inv/)
    expect(r.stdout).toMatch(/NeuMatC/)
    expect(r.stdout).toMatch(/LU/)
    expect(r.stdout).toMatch(/speed-up/)
    expect(r.stdout).toMatch(/condition number/)
  })

  it('--op svd on the default family: the low-rank variant, truncated to its inner rank, says why', () => {
    const r = run('demo', '--op', 'svd', '--n', '12', '--rank', '3', '--test', '8', '--runs', '2', '--steps', '300', '--json')
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.operation).toBe('svd')
    expect(out.family).toMatchObject({ kind: 'synthetic', n: 12, rank: 3, eps: 1e-3, scale: 1, rows: 12, cols: 12 })
    expect(out.svdRank).toBe(3)
    expect(out.notes.join(' ')).toMatch(/low-rank synthetic variant.*degenerate/)
    const [neumatc, exact] = out.results
    expect(neumatc.method).toMatch(/NeuMatC/)
    expect(exact.method).toMatch(/SVD/)
    for (const m of out.results) {
      expect(m.msPerMatrixAt1).toBeGreaterThan(0)
      expect(m.msPerMatrixAtN).toBeGreaterThan(0)
    }
    // The exact truncated SVD scores the tail energy of the eps*I term; 300 steps get the model to ≈3e-3.
    expect(exact.relErr).toBeLessThan(1e-6)
    expect(neumatc.relErr).toBeGreaterThanOrEqual(exact.relErr)
    expect(neumatc.relErr).toBeLessThan(0.1)
    expect(out.orthogonality.exact).toBeLessThan(1e-12)
    expect(out.training.report.operation).toBe('svd')
    expect(out.training.heldOutRelErr).toBeGreaterThan(0)
    expect(out.conditionNumber).toBeNull()
  })

  it('--op qr prints its table and error', () => {
    const r = run('demo', '--op', 'qr', '--n', '8', '--rank', '2', '--test', '5', '--runs', '2', '--steps', '300', '--quiet')
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/method\s+ms\/matrix @1\s+ms\/matrix @5\s+RelErr_qr/)
    expect(r.stdout).toMatch(/NeuMatC/)
    expect(r.stdout).toMatch(/QR \(exact, f64\)/)
    expect(r.stdout).toMatch(/operation: qr on the synthetic family/)
    expect(r.stdout).toMatch(/orthogonality defect/)
    expect(r.stdout).toMatch(/speed-up vs QR/)
    const err = Number(/NeuMatC \(f32\)\s+\S+\s+\S+\s+(\S+)/.exec(r.stdout)?.[1])
    expect(err).toBeLessThan(1e-3)
  })

  it('--op cholesky picks the SPD family by itself and says so', () => {
    const r = run('demo', '--op', 'cholesky', '--n', '6', '--test', '4', '--runs', '2', '--steps', '50', '--json')
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.family).toMatchObject({ kind: 'spdFourier', n: 6, paramDim: 2 })
    expect(out.notes.join(' ')).toMatch(/spdFourier/)
    expect(out.results[1].method).toMatch(/Cholesky/)
    expect(out.results[1].relErr).toBeLessThan(1e-28)
  })

  it('exits 1 on user errors', () => {
    expect(run('demo', '--op', 'lu').status).toBe(1)
    expect(run('demo', '--family', 'hilbert').status).toBe(1)
    const bad = run('demo', '--n', 'abc')
    expect(bad.status).toBe(1)
    const engine = run('demo', '--n', '4', '--rank', '8', '--json')
    expect(engine.status).toBe(1)
    expect(engine.stderr).toContain('INVALID_OPTION')
    expect(run('nonsense').status).toBe(1)
  })

  it('Ctrl-C during training cancels cleanly (exit 1, CANCELLED)', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--n', '32', '--rank', '4', '--steps', '1000000'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let signalled = false
    const t0 = performance.now()
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        // Interrupt once training is under way (the first progress phase has been printed).
        if (!signalled && /phase: /.test(stderr)) {
          signalled = true
          child.kill('SIGINT')
        }
      })
      child.on('exit', (c) => resolve(c))
    })
    expect(signalled).toBe(true)
    expect(code).toBe(1)
    expect(stderr).toContain('CANCELLED')
    expect(performance.now() - t0).toBeLessThan(30_000)
  })
})

/** `np.save` bytes of a C-ordered float64 (or float32) array. */
function npy(shape: number[], values: ArrayLike<number>, descr = '<f8'): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n'
  const pre = Buffer.alloc(10)
  pre.writeUInt8(0x93, 0)
  pre.write('NUMPY', 1, 'latin1')
  pre.writeUInt8(1, 6)
  pre.writeUInt8(0, 7)
  pre.writeUInt16LE(header.length, 8)
  const size = descr === '<f8' ? 8 : 4
  const data = Buffer.alloc(values.length * size)
  for (let i = 0; i < values.length; i++) size === 8 ? data.writeDoubleLE(values[i], i * 8) : data.writeFloatLE(values[i], i * 4)
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data])
}

describe('neumatc train --samples (the user\'s files), baselines, bench', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-cli-'))
  // A(p) = A0 + cos(2πp) A1 + sin(2πp) A2 on 61 grid points, 6×6, well-conditioned.
  const n = 6
  const grid = Array.from({ length: 61 }, (_, i) => i / 60)
  const mats = grid.flatMap((p) =>
    Array.from({ length: n * n }, (_, k) => {
      const [i, j] = [Math.floor(k / n), k % n]
      return (i === j ? 4 : 0) + Math.cos(2 * Math.PI * p) * Math.sin(i + 2 * j) * 0.5 + Math.sin(2 * Math.PI * p) * Math.cos(3 * i - j) * 0.5
    }),
  )

  it('.npy files: trains, saves, and the model answers on the grid', () => {
    fs.writeFileSync(path.join(dir, 'p.npy'), npy([61], grid))
    fs.writeFileSync(path.join(dir, 'A.npy'), npy([61, n, n], mats))
    fs.writeFileSync(path.join(dir, 'family.json'), JSON.stringify({ paramDim: 1, params: 'p.npy', matrices: 'A.npy' }))
    const out = path.join(dir, 'mine.neumatc')
    const t = run('train', '--samples', path.join(dir, 'family.json'), '--out', out, '--quiet', '--json')
    expect(t.status, t.stderr).toBe(0)
    const meta = JSON.parse(t.stdout).metadata
    expect(meta.family).toMatchObject({ kind: 'samples', samples: 61, rows: n, cols: n })
    expect(meta.report.heldOutRelErr).toBeLessThan(1e-4)
    const p = JSON.parse(run('predict', out, '--params', '0.5').stdout)
    expect(p.components.inverse.rows).toBe(n)
    // check needs A(p): a samples model does not carry it; the CLI says what to do.
    const c = run('check', out, '--params', '0.5')
    expect(c.status).toBe(1)
    expect(c.stderr).toMatch(/model\.check\(params, \{ family \}\)/)
  })

  it('raw little-endian files and inline parameters; bad files are user errors naming the file', () => {
    const f32 = Buffer.alloc(mats.length * 4)
    mats.forEach((v, i) => f32.writeFloatLE(v, i * 4))
    fs.writeFileSync(path.join(dir, 'A.f32'), f32)
    fs.writeFileSync(path.join(dir, 'raw.json'), JSON.stringify({ paramDim: 1, params: grid, matrices: { file: 'A.f32', rows: n, cols: n } }))
    const t = run('train', '--samples', path.join(dir, 'raw.json'), '--out', path.join(dir, 'raw.neumatc'), '--steps', '100', '--quiet')
    expect(t.status, t.stderr).toBe(0)
    fs.writeFileSync(path.join(dir, 'bad.npy'), npy([61, n, n], mats, '<i8'))
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ paramDim: 1, params: grid, matrices: 'bad.npy' }))
    const b = run('train', '--samples', path.join(dir, 'bad.json'), '--out', path.join(dir, 'x.neumatc'), '--quiet')
    expect(b.status).toBe(1)
    expect(b.stderr).toMatch(/bad\.npy: dtype <i8 is not supported/)
    expect(fs.existsSync(path.join(dir, 'x.neumatc'))).toBe(false)
    const s = run('train', '--samples', path.join(dir, 'raw.json'), '--op', 'solve', '--out', path.join(dir, 'y.neumatc'))
    expect(s.status).toBe(1)
    expect(s.stderr).toMatch(/--rhs/)
  })

  it('baselines --json: every baseline with its time and error', () => {
    const r = run('baselines', '--n', '16', '--rank', '4', '--test', '8', '--runs', '2', '--json')
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.results.map((x: { method: string }) => x.method.split(' ')[0])).toEqual(['LU', 'NNI', 'COI', 'ZNNI'])
    expect(out.results[0].relErr).toBeLessThan(1e-20)
    for (const x of out.results) expect(x.msPerMatrix > 0 || /failed/.test(x.note)).toBe(true)
  })

  it('bench --json: time, error, training and break-even per size', () => {
    const r = run('bench', '--sizes', '8,12', '--batch', '20', '--runs', '2', '--json', '--quiet')
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.results.map((x: { n: number }) => x.n)).toEqual([8, 12])
    for (const x of out.results) {
      expect(x.neumatcMs).toBeGreaterThan(0)
      expect(x.luMs).toBeGreaterThan(0)
      expect(x.relErr).toBeLessThan(1e-3)
      expect(x.trainSeconds).toBeGreaterThan(0)
    }
  })

  it('--help lists every command with examples', () => {
    const h = run('--help')
    for (const c of ['demo', 'train', 'predict', 'check', 'info', 'baselines', 'bench']) expect(h.stdout).toMatch(new RegExp(`\\b${c}\\b`))
    expect(run('train', '--help').stdout).toMatch(/Examples:/)
  })
})
