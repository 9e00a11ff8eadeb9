/**
 * Reading a user's matrix family from files, for `neumatc train --samples`: a JSON description
 * naming the parameter grid and the matrices, each as a NumPy `.npy` file, a raw little-endian
 * array (`.f64` / `.f32` / `.bin` with `dtype`), or inline numbers.
 *
 * ```json
 * { "paramDim": 1, "params": "p.npy", "matrices": "A.npy" }
 * { "paramDim": 2, "params": [0, 0, 0, 1, 1, 0, 1, 1], "matrices": { "file": "A.bin", "dtype": "f32", "rows": 64, "cols": 64 } }
 * ```
 * Paths are relative to the description file. An `.npy` matrix file has shape `(batch, rows, cols)`;
 * a raw one needs `rows` and `cols`. The `.npy` reader is written here (about forty lines) because the
 * npm packages for it are browser-oriented and pull in a fetch polyfill; it accepts exactly what
 * NumPy's `np.save` writes for `float64`/`float32` C-ordered arrays (format versions 1–3) and names
 * anything else it refuses.
 *
 * @module
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Family } from './families.js'

/** A numeric array read from a file: its values as f64 and its shape. */
export interface NumericArray {
  /** The values, C order. */
  data: Float64Array
  /** The shape (`[length]` for raw files). */
  shape: number[]
}

/** How a file's values are stored: `'f64'` (default) or `'f32'`, little-endian. */
export type RawDtype = 'f64' | 'f32'

/** One array of a description: inline numbers, a file path, or a file with its settings. */
export type ArraySource = number[] | string | { file: string; dtype?: RawDtype; rows?: number; cols?: number }

/** The JSON description read by {@link readSamples}. */
export interface SamplesDescription {
  /** Length `k` of one parameter vector. */
  paramDim: number
  /** `batch * paramDim` parameters. */
  params: ArraySource
  /** `batch` matrices, `(batch, rows, cols)` for `.npy`, or raw with `rows` and `cols`. */
  matrices: ArraySource
}

function bad(file: string, why: string): Error {
  return new RangeError(`${file}: ${why}`)
}

/** Parses a NumPy `.npy` file (float64 or float32, little-endian, C order). */
export function parseNpy(bytes: Buffer, file = 'npy'): NumericArray {
  if (bytes.length < 10 || bytes.readUInt8(0) !== 0x93 || bytes.toString('latin1', 1, 6) !== 'NUMPY') {
    throw bad(file, 'not a .npy file (no \\x93NUMPY magic)')
  }
  const major = bytes.readUInt8(6)
  if (major < 1 || major > 3) throw bad(file, `unsupported .npy format version ${major}`)
  const lenBytes = major === 1 ? 2 : 4
  if (bytes.length < 8 + lenBytes) throw bad(file, 'truncated .npy header')
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8)
  const start = 8 + lenBytes + headerLen
  if (start > bytes.length) throw bad(file, 'truncated .npy header')
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', 8 + lenBytes, start)
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(file, `unreadable .npy header ${header.trim()}`)
  if (fortran === 'True') throw bad(file, 'Fortran-ordered arrays are not supported: save with np.ascontiguousarray')
  const size = descr === '<f8' ? 8 : descr === '<f4' ? 4 : 0
  if (size === 0) throw bad(file, `dtype ${descr} is not supported: use float64 ('<f8') or float32 ('<f4')`)
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number)
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(file, `bad shape (${shapeText})`)
  const count = shape.reduce((a, b) => a * b, 1)
  if (bytes.length - start !== count * size) {
    throw bad(file, `holds ${bytes.length - start} data bytes, shape (${shapeText}) of ${descr} needs ${count * size}`)
  }
  return { data: decode(bytes.subarray(start), size === 8 ? 'f64' : 'f32'), shape }
}

function decode(bytes: Buffer, dtype: RawDtype): Float64Array {
  const size = dtype === 'f64' ? 8 : 4
  const out = new Float64Array(bytes.length / size)
  for (let i = 0; i < out.length; i++) out[i] = dtype === 'f64' ? bytes.readDoubleLE(i * size) : bytes.readFloatLE(i * size)
  return out
}

/** Reads one array of a description (relative paths against `base`). */
export function readArray(source: ArraySource, base: string, what: string): NumericArray {
  if (Array.isArray(source)) {
    if (!source.every((v) => typeof v === 'number')) throw new TypeError(`${what}: inline arrays must hold numbers`)
    return { data: Float64Array.from(source), shape: [source.length] }
  }
  const spec = typeof source === 'string' ? { file: source } : source
  if (typeof spec !== 'object' || spec === null || typeof spec.file !== 'string') {
    throw new TypeError(`${what}: expected numbers, a file path or { file, dtype, rows, cols }`)
  }
  const file = path.resolve(base, spec.file)
  const bytes = fs.readFileSync(file)
  if (file.endsWith('.npy')) return parseNpy(bytes, file)
  const dtype = spec.dtype ?? (file.endsWith('.f32') ? 'f32' : 'f64')
  if (dtype !== 'f64' && dtype !== 'f32') throw bad(file, `dtype must be 'f64' or 'f32', got ${String(dtype)}`)
  const size = dtype === 'f64' ? 8 : 4
  if (bytes.length % size !== 0) throw bad(file, `${bytes.length} bytes is not a whole number of ${dtype} values`)
  const data = decode(bytes, dtype)
  if (spec.rows !== undefined || spec.cols !== undefined) {
    const { rows, cols } = spec
    if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || (rows as number) < 1 || (cols as number) < 1) {
      throw bad(file, 'rows and cols must both be positive integers')
    }
    const per = (rows as number) * (cols as number)
    if (data.length % per !== 0) throw bad(file, `${data.length} values is not a whole number of ${rows}×${cols} matrices`)
    return { data, shape: [data.length / per, rows as number, cols as number] }
  }
  return { data, shape: [data.length] }
}

/**
 * Reads a {@link SamplesDescription} JSON file and builds the family (`Family.fromSamples`).
 *
 * @throws TypeError/RangeError naming the file and the problem; the engine's errors for
 *   inconsistent samples (shape mismatch, NaN, duplicate parameters)
 */
export function readSamples(descriptionFile: string): Family {
  const base = path.dirname(path.resolve(descriptionFile))
  let desc: SamplesDescription
  try {
    desc = JSON.parse(fs.readFileSync(descriptionFile, 'utf8')) as SamplesDescription
  } catch (e) {
    throw new RangeError(`${descriptionFile}: ${(e as Error).message}`)
  }
  if (typeof desc !== 'object' || desc === null) throw new TypeError(`${descriptionFile}: expected a JSON object`)
  const params = readArray(desc.params, base, 'params')
  const matrices = readArray(desc.matrices, base, 'matrices')
  if (matrices.shape.length !== 3) {
    throw new RangeError(`matrices: expected a (batch, rows, cols) array, got shape (${matrices.shape.join(', ')}); raw files need rows and cols`)
  }
  const [batch, rows, cols] = matrices.shape
  return Family.fromSamples({ paramDim: desc.paramDim, params: params.data, matrices: { batch, rows, cols, data: matrices.data } })
}
