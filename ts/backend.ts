/**
 * The native addon every module uses: the CPU build (default) or, with `NEUMATC_BACKEND=cuda` or
 * `auto`, the CUDA build when it loads. Re-exports the generated bindings, so modules import
 * `./backend.js` instead of `./native.js`.
 *
 * @module
 */
// Order matters: select-backend.js must run before the generated loader (native.js) is first required.
import { selection } from './select-backend.js'
import { buildInfo } from './native.js'
import { DeviceUnavailableError } from './errors.js'

export * from './native.js'

selection.restore()

/** Which native addon is loaded and why (see {@link backend}). */
export interface BackendInfo {
  /** `'cuda'` when the CUDA addon was loaded, `'cpu'` otherwise. */
  name: 'cpu' | 'cuda'
  /** What `NEUMATC_BACKEND` asked for: `'cpu'` (also when unset), `'cuda'` or `'auto'`. */
  requested: 'cpu' | 'cuda' | 'auto'
  /**
   * The CUDA addon path that was tried (`NEUMATC_CUDA_ADDON`, else `cuda/neumatc.<platform>.node`
   * next to the compiled JavaScript), or `''` when none was.
   */
  cudaAddon: string
  /** Why the CUDA addon was not used (its load error), when it was tried and did not load. */
  fallbackReason?: string
  /** Whether the loaded addon was built with CUDA (`device: 'cuda'` then reaches the engine). */
  cudaBuild: boolean
}

const info: Readonly<BackendInfo> = Object.freeze({
  name: selection.name,
  requested: selection.requested,
  cudaAddon: selection.cudaAddon,
  ...(selection.fallbackReason === undefined ? {} : { fallbackReason: selection.fallbackReason }),
  cudaBuild: buildInfo().cuda,
})

/**
 * Which native addon this process loaded. Chosen once, when neumatc is first imported, by the
 * environment variable `NEUMATC_BACKEND`:
 *
 * - `cpu` (default, also when unset): the CPU addon.
 * - `cuda`: the CUDA addon (`npm run build:cuda`), from `NEUMATC_CUDA_ADDON` if set, else
 *   `cuda/neumatc.<platform>.node` next to the compiled JavaScript. When it does not load (no such
 *   file, no CUDA driver or libraries), the CPU addon is used and one warning goes to stderr.
 * - `auto`: like `cuda`, silently.
 *
 * Any other value makes the import throw. With the CPU addon, `device: 'cuda'` options throw a
 * {@link DeviceUnavailableError} that says how to get the CUDA build.
 *
 * @example
 * ```ts
 * // NEUMATC_BACKEND=auto node app.js
 * const device = backend().cudaBuild ? 'cuda' : 'cpu'
 * const { inverse } = await model.predict(p, { device })
 * ```
 */
export function backend(): BackendInfo {
  return { ...info }
}

const DEVICE = /^(cpu|cuda(:\d+)?)$/

/**
 * Checks a `device` option: a `TypeError`/`RangeError` for a malformed one, a
 * {@link DeviceUnavailableError} for a CUDA device when the loaded addon has no CUDA. Returns it.
 * @internal
 */
export function checkDevice(device: unknown): string | undefined {
  if (device === undefined) return undefined
  if (typeof device !== 'string') throw new TypeError(`device must be a string, got ${typeof device}`)
  if (!DEVICE.test(device)) throw new RangeError(`device must be 'cpu', 'cuda' or 'cuda:N', got '${device}'`)
  if (device !== 'cpu' && !info.cudaBuild) throw new DeviceUnavailableError(`device '${device}' ${whyNoCuda()}`)
  return device
}

function whyNoCuda(): string {
  const { name, requested, cudaAddon, fallbackReason } = info
  if (fallbackReason !== undefined) {
    return `needs the CUDA build of neumatc, which NEUMATC_BACKEND=${requested} tried to load from ${cudaAddon} and could not: ${fallbackReason}`
  }
  if (name === 'cuda') return `needs the CUDA build of neumatc, but the addon loaded from ${cudaAddon} was built without CUDA`
  return 'needs the CUDA build of neumatc: build it with `npm run build:cuda` and set NEUMATC_BACKEND=cuda'
}
