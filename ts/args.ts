/**
 * Argument checks shared by every module: the *types* of numbers, booleans, strings and option
 * objects (plain `TypeError`/`RangeError` before anything crosses into Rust), and the JSON of an
 * options object the engine parses. Values and unknown names are the engine's to judge.
 *
 * @module
 */

/** Throws unless `v` is `undefined` or a finite number (a non-negative safe integer when `integer`). @internal */
export function checkNumber(v: unknown, name: string, integer: boolean): void {
  if (v === undefined) return
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`)
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be finite, got ${v}`)
  if (integer && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`${name} must be a non-negative integer, got ${v}`)
}

/** Throws unless `v` is `undefined` or a boolean. @internal */
export function checkBool(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof v}`)
}

/** Throws unless `v` is `undefined` or a string. @internal */
export function checkString(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'string') throw new TypeError(`${name} must be a string, got ${typeof v}`)
}

/** Throws unless `o` is a non-null object. @internal */
export function checkOptionsObject(o: unknown, what: string): asserts o is object {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${what}: options must be an object`)
}

/** Throws unless `path` is a non-empty string. @internal */
export function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${what}: path must be a non-empty string`)
}

/** Which options of a flat options object are not plain numbers. @internal */
export interface OptionKinds {
  /** Names whose values must be non-negative integers. */
  integers?: ReadonlySet<string>
  /** Names whose values must be booleans. */
  booleans?: ReadonlySet<string>
  /** Names whose values must be strings. */
  strings?: ReadonlySet<string>
}

/**
 * Checks a flat options object — every value a finite number unless {@link OptionKinds} says
 * otherwise, `undefined` passing through — and returns the JSON the engine parses. @internal
 */
export function optionsJson(what: string, options: unknown, kinds: OptionKinds = {}): string {
  checkOptionsObject(options, what)
  for (const [key, v] of Object.entries(options)) {
    const name = `${what}: option ${key}`
    if (kinds.booleans?.has(key)) checkBool(v, name)
    else if (kinds.strings?.has(key)) checkString(v, name)
    else checkNumber(v, name, kinds.integers?.has(key) ?? false)
  }
  return JSON.stringify(options)
}
