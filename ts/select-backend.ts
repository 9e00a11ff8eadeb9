/**
 * Chooses the native addon before the generated loader (`native.js`) runs. `backend.ts` imports
 * this module first: with `NEUMATC_BACKEND=cuda` or `auto` it tries the CUDA addon and, when it
 * loads, points the loader at it through `NAPI_RS_NATIVE_LIBRARY_PATH`; otherwise the CPU addon
 * loads as usual. Never throws for a CUDA addon that cannot load (missing file, missing CUDA
 * libraries, corrupt file): that is recorded as the fallback reason.
 *
 * @module
 * @internal
 */
import * as path from 'node:path'

/** What `NEUMATC_BACKEND` may say. */
export const BACKEND_REQUESTS = ['cpu', 'cuda', 'auto'] as const

/** A value of `NEUMATC_BACKEND`. */
export type BackendRequest = (typeof BACKEND_REQUESTS)[number]

/** The outcome of the selection, before the loader ran. */
export interface Selection {
  /** Which addon the loader is about to load. */
  name: 'cpu' | 'cuda'
  /** `NEUMATC_BACKEND` (`'cpu'` when unset or empty). */
  requested: BackendRequest
  /** The CUDA addon path tried, or `''` when none was. */
  cudaAddon: string
  /** Why the CUDA addon was not used, when one was tried and failed. */
  fallbackReason?: string
  /** Puts `NAPI_RS_NATIVE_LIBRARY_PATH` back as it was, once the loader has run. */
  restore: () => void
}

/** Set on `process` once the fallback warning was printed (module copies share it). */
const WARNED = Symbol.for('neumatc.backend.warned')

/** The file-name part napi gives the addon of this platform (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`). */
function platformTriple(): string {
  if (process.platform === 'linux') return `linux-${process.arch}-gnu`
  if (process.platform === 'win32') return `win32-${process.arch}-msvc`
  return `${process.platform}-${process.arch}`
}

function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e)
  // The first line: a missing file's error goes on with the require stack.
  return message.split('\n')[0].trim()
}

function isRequest(s: string): s is BackendRequest {
  return (BACKEND_REQUESTS as readonly string[]).includes(s)
}

function select(): Selection {
  const raw = process.env.NEUMATC_BACKEND
  const requested = raw === undefined || raw === '' ? 'cpu' : raw
  if (!isRequest(requested)) {
    throw new Error(`NEUMATC_BACKEND must be one of ${BACKEND_REQUESTS.join(', ')} (or unset for cpu), got '${raw}'`)
  }
  const nothingToRestore = () => {}
  if (requested === 'cpu') return { name: 'cpu', requested, cudaAddon: '', restore: nothingToRestore }
  const given = process.env.NEUMATC_CUDA_ADDON
  const cudaAddon = given ? path.resolve(given) : path.join(__dirname, 'cuda', `neumatc.${platformTriple()}.node`)
  try {
    // Loaded once here; the generated loader's own require of the same path then hits the cache.
    const addon = require(cudaAddon) as { buildInfo?: unknown }
    if (typeof addon?.buildInfo !== 'function') throw new Error(`${cudaAddon} is not a neumatc addon of this version (it has no buildInfo)`)
  } catch (e) {
    const fallbackReason = reasonOf(e)
    const flags = process as unknown as Record<symbol, boolean>
    if (requested === 'cuda' && !flags[WARNED]) {
      flags[WARNED] = true
      process.stderr.write(`neumatc: NEUMATC_BACKEND=cuda but the CUDA addon did not load, using the CPU addon: ${fallbackReason}\n`)
    }
    return { name: 'cpu', requested, cudaAddon, fallbackReason, restore: nothingToRestore }
  }
  const before = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  process.env.NAPI_RS_NATIVE_LIBRARY_PATH = cudaAddon
  // The variable is napi-rs's, not ours: every napi-rs package loaded later would read it too.
  const restore = () => {
    if (before === undefined) delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
    else process.env.NAPI_RS_NATIVE_LIBRARY_PATH = before
  }
  return { name: 'cuda', requested, cudaAddon, restore }
}

/** The selection made when this module was first imported. */
export const selection: Selection = select()
