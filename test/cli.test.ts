import { spawn, spawnSync } from 'node:child_process'
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

  it('exits 1 on user errors', () => {
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
