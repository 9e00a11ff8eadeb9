import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as native from '../ts/native.js'
import { DeviceUnavailableError, Family, NeuMatC, backend } from '../ts/index.js'

const DIST = path.join(__dirname, '..', 'dist', 'index.js')
const QUICK = { steps: 5, seed: 1, sampling: { supervised: 6, collocation: 6, candidates: 8 } }

/** Runs `code` in a child `node` that has loaded the built package as `api`, with `env` added. */
function child(code: string, env: Record<string, string | undefined>) {
  const script = `const api = require(${JSON.stringify(DIST)});\n${code}`
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NEUMATC_BACKEND: undefined, NEUMATC_CUDA_ADDON: undefined, ...env }
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000, env: childEnv })
}

/** Prints `backend()` as one JSON line. */
const PRINT_BACKEND = 'process.stdout.write(JSON.stringify(api.backend()) + "\\n");'

/** A tiny training and prediction through the loaded addon; prints the inverse's length. */
const TRAIN_AND_PREDICT = `
(async () => {
  const fam = api.Family.synthetic({ n: 8, rank: 2, seed: 1 })
  const model = await api.NeuMatC.train(fam, 'inverse', ${JSON.stringify(QUICK)})
  const { inverse } = await model.predict(Float64Array.of(0.5), { device: 'cpu' })
  process.stdout.write(JSON.stringify({ predicted: inverse.data.length }) + "\\n")
})().catch((e) => { console.error(e); process.exit(3) })
`

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-backend-'))
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('backend selection (child processes on dist/)', () => {
  it('default: the CPU addon, nothing tried', () => {
    const r = child(PRINT_BACKEND, {})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ name: 'cpu', requested: 'cpu', cudaAddon: '', cudaBuild: false })
  })

  it('NEUMATC_BACKEND=cuda with a missing addon: falls back with one warning, still computes', () => {
    const missing = path.join(dir, 'nope', 'neumatc.linux-x64-gnu.node')
    const r = child(`${PRINT_BACKEND}\n${TRAIN_AND_PREDICT}`, { NEUMATC_BACKEND: 'cuda', NEUMATC_CUDA_ADDON: missing })
    expect(r.status, r.stderr).toBe(0)
    const [info, run] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(info).toMatchObject({ name: 'cpu', requested: 'cuda', cudaAddon: missing, cudaBuild: false })
    expect(info.fallbackReason).toContain(missing)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/NEUMATC_BACKEND=cuda.*CPU addon/)
    expect(run).toEqual({ predicted: 64 })
  })

  it('NEUMATC_BACKEND=cuda with a corrupt .node: falls back, the reason names the load error', () => {
    const corrupt = path.join(dir, 'corrupt.node')
    fs.writeFileSync(corrupt, Buffer.from('this is not an ELF shared object, just garbage bytes\n'.repeat(20)))
    const r = child(`${PRINT_BACKEND}\n${TRAIN_AND_PREDICT}`, { NEUMATC_BACKEND: 'cuda', NEUMATC_CUDA_ADDON: corrupt })
    expect(r.status, r.stderr).toBe(0)
    const [info, run] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(info).toMatchObject({ name: 'cpu', requested: 'cuda', cudaAddon: corrupt, cudaBuild: false })
    // dlopen's own words (Linux: "invalid ELF header", macOS: "not a mach-o file", ...).
    expect(info.fallbackReason).toMatch(/ELF|mach-o|not a valid Win32|slice|too short/i)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(run).toEqual({ predicted: 64 })
  })

  it('a relative NEUMATC_CUDA_ADDON resolves against the working directory', () => {
    const r = child(PRINT_BACKEND, { NEUMATC_BACKEND: 'auto', NEUMATC_CUDA_ADDON: 'no-such-dir/x.node' })
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).cudaAddon).toBe(path.resolve('no-such-dir/x.node'))
  })

  it('NEUMATC_BACKEND=auto with a missing addon: silent, CPU', () => {
    const r = child(PRINT_BACKEND, { NEUMATC_BACKEND: 'auto', NEUMATC_CUDA_ADDON: path.join(dir, 'missing.node') })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const info = JSON.parse(r.stdout)
    expect(info).toMatchObject({ name: 'cpu', requested: 'auto', cudaBuild: false })
    expect(info.fallbackReason).toBeTruthy()
  })

  it('NEUMATC_BACKEND=auto without NEUMATC_CUDA_ADDON tries dist/cuda/', () => {
    const r = child(PRINT_BACKEND, { NEUMATC_BACKEND: 'auto' })
    expect(r.status, r.stderr).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info.cudaAddon).toBe(path.join(path.dirname(DIST), 'cuda', path.basename(info.cudaAddon)))
    expect(path.basename(info.cudaAddon)).toMatch(/^neumatc\.[a-z0-9]+-[a-z0-9]+(-[a-z]+)?\.node$/)
  })

  it('the selection does not leak NAPI_RS_NATIVE_LIBRARY_PATH', () => {
    const r = child('process.stdout.write(String(process.env.NAPI_RS_NATIVE_LIBRARY_PATH))', { NEUMATC_BACKEND: 'auto' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toBe('undefined')
  })

  it.skipIf(process.platform !== 'linux')('an addon that loads is the one the generated loader returns, and the only one mapped', () => {
    // The CPU addon under another path stands in for the CUDA build (which cannot be built here).
    const addon = fs.readdirSync(path.dirname(DIST)).find((f) => f.endsWith('.node')) as string
    const standIn = path.join(dir, 'stand-in', addon)
    fs.mkdirSync(path.dirname(standIn), { recursive: true })
    fs.copyFileSync(path.join(path.dirname(DIST), addon), standIn)
    const code = `
      const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
      const mapped = [...new Set(maps.filter((l) => l.endsWith('.node')).map((l) => l.split(/\\s+/).pop()))]
      process.stdout.write(JSON.stringify({ info: api.backend(), mapped, leaked: process.env.NAPI_RS_NATIVE_LIBRARY_PATH ?? null }) + "\\n")
      api.NeuMatC.train(api.Family.synthetic({ n: 8, rank: 2, seed: 1 }), 'inverse', { device: 'cuda' }).then(
        () => process.exit(4),
        (e) => { process.stdout.write(JSON.stringify({ code: e.code, message: e.message }) + "\\n") },
      )`
    const r = child(code, { NEUMATC_BACKEND: 'cuda', NEUMATC_CUDA_ADDON: standIn })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const [{ info, mapped, leaked }, e] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(info).toEqual({ name: 'cuda', requested: 'cuda', cudaAddon: standIn, cudaBuild: false })
    expect(mapped).toEqual([standIn])
    expect(leaked).toBeNull()
    // Loaded, but not a CUDA build: the façade still refuses CUDA devices, and says why.
    expect(e.code).toBe('DEVICE_UNAVAILABLE')
    expect(e.message).toContain('built without CUDA')
  })

  it('NEUMATC_BACKEND=bogus: the import fails and names the variable', () => {
    const r = child(PRINT_BACKEND, { NEUMATC_BACKEND: 'bogus' })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/NEUMATC_BACKEND must be one of cpu, cuda, auto.*'bogus'/)
  })

  it('a CUDA device with the CPU addon after a failed CUDA load: the message carries the reason', () => {
    const missing = path.join(dir, 'gone.node')
    const code = `
      const fam = api.Family.synthetic({ n: 8, rank: 2, seed: 1 })
      api.NeuMatC.train(fam, 'inverse', { device: 'cuda:0' }).then(
        () => process.exit(4),
        (e) => { process.stdout.write(JSON.stringify({ name: e.name, code: e.code, message: e.message }) + "\\n") },
      )`
    const r = child(code, { NEUMATC_BACKEND: 'auto', NEUMATC_CUDA_ADDON: missing })
    expect(r.status, r.stderr).toBe(0)
    const e = JSON.parse(r.stdout)
    expect(e).toMatchObject({ name: 'DeviceUnavailableError', code: 'DEVICE_UNAVAILABLE' })
    expect(e.message).toContain("device 'cuda:0'")
    expect(e.message).toContain('NEUMATC_BACKEND=auto')
    expect(e.message).toContain(missing)
  })
})

describe('device options with the CPU addon (in process)', () => {
  const fam = Family.synthetic({ n: 8, rank: 2, seed: 1 })
  let model: NeuMatC<'inverse'>
  const p = Float64Array.of(0.25, 0.75)

  beforeAll(async () => {
    model = await NeuMatC.train(fam, 'inverse', QUICK)
  })

  it('backend(): the CPU build', () => {
    expect(backend()).toEqual({ name: 'cpu', requested: 'cpu', cudaAddon: '', cudaBuild: false })
    expect(native.buildInfo()).toEqual({ cuda: false, version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
  })

  it("train with device 'cuda' rejects with DeviceUnavailableError before Rust, saying what to do", async () => {
    let caught: unknown
    try {
      await NeuMatC.train(fam, 'inverse', { ...QUICK, device: 'cuda' })
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(DeviceUnavailableError)
    expect((caught as DeviceUnavailableError).code).toBe('DEVICE_UNAVAILABLE')
    expect((caught as Error).message).toContain('npm run build:cuda')
    expect((caught as Error).message).toContain('NEUMATC_BACKEND=cuda')
    // Raised in TS: no native error underneath.
    expect((caught as Error).cause).toBeUndefined()
  })

  it("predict / predictSync with device 'cuda:1' throw DeviceUnavailableError", async () => {
    let caught: unknown
    try {
      await model.predict(p, { device: 'cuda:1' })
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(DeviceUnavailableError)
    expect((caught as DeviceUnavailableError).code).toBe('DEVICE_UNAVAILABLE')
    expect((caught as Error).message).toMatch(/'cuda:1'.*build:cuda/)
    expect(() => model.predictSync(p, { device: 'cuda:1' })).toThrow(DeviceUnavailableError)
  })

  it('malformed devices are TypeError/RangeError', async () => {
    for (const device of ['gpu', 'cuda:x', 'cuda:', 'CPU', ' cpu']) {
      expect(() => model.predictSync(p, { device })).toThrow(RangeError)
      await expect(model.predict(p, { device })).rejects.toThrow(RangeError)
      await expect(NeuMatC.train(fam, 'inverse', { ...QUICK, device })).rejects.toThrow(RangeError)
    }
    expect(() => model.predictSync(p, { device: 0 as never })).toThrow(TypeError)
    await expect(NeuMatC.train(fam, 'inverse', { ...QUICK, device: 1 as never })).rejects.toThrow(TypeError)
  })

  it("device 'cpu' predicts the same numbers as no device", async () => {
    const plain = model.predictSync(p).inverse.data
    expect(model.predictSync(p, { device: 'cpu' }).inverse.data).toEqual(plain)
    expect((await model.predict(p, { device: 'cpu' })).inverse.data).toEqual(plain)
    const trained = await NeuMatC.train(fam, 'inverse', { ...QUICK, device: 'cpu' })
    expect(trained.device).toBe('cpu')
  })

  it('the CLI: --device for predict and train', async () => {
    const CLI = path.join(path.dirname(DIST), 'cli.js')
    const file = path.join(dir, 'cli-device.neumatc')
    await model.save(file)
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 })
    const ok = cli('predict', file, '--params', '0.25', '--device', 'cpu')
    expect(ok.status, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).components.inverse.data).toEqual(Array.from(model.predictSync(Float64Array.of(0.25)).inverse.data))
    const cuda = cli('predict', file, '--params', '0.25', '--device', 'cuda')
    expect(cuda.status).toBe(1)
    expect(cuda.stderr).toMatch(/DEVICE_UNAVAILABLE: device 'cuda' needs the CUDA build.*build:cuda/)
    const bad = cli('predict', file, '--params', '0.25', '--device', 'gpu')
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain("device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'")
    const train = cli('train', '--n', '8', '--rank', '2', '--out', path.join(dir, 'never.neumatc'), '--device', 'cuda:0')
    expect(train.status).toBe(1)
    expect(train.stderr).toMatch(/DEVICE_UNAVAILABLE: device 'cuda:0'/)
  })

  it("the binding itself: device 'cuda' on the CPU build is DEVICE_UNAVAILABLE, a bad device INVALID_OPTION", async () => {
    const codeOf = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return (e as { code?: unknown }).code
      }
      return 'no error'
    }
    expect(codeOf(() => model.native.predictSync(p, false, 'cuda'))).toBe('DEVICE_UNAVAILABLE')
    expect(codeOf(() => model.native.predictSync(p, false, 'gpu'))).toBe('INVALID_OPTION')
    await expect(model.native.predict(p, false, 'cuda:1')).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' })
    await expect(model.native.predict(p, false, 'cuda:x')).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    expect(model.native.predictSync(p, false, 'cpu').components[0].data).toEqual(model.predictSync(p).inverse.data)
    // Training too (the device string travels in the options JSON).
    const json = JSON.stringify({ ...QUICK, device: 'cuda' })
    await expect(native.train(fam.native, 'inverse', json, undefined, new native.CancelToken())).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' })
  })
})
