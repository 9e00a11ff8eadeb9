// The helpers the examples share: settings from the command line or the environment.
'use strict'

/** The raw value of `--name value` or of the environment variable NAME (dashes as underscores). */
function arg(name) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : process.env[name.toUpperCase().replaceAll('-', '_')]
}

/** A number from `--name value` or the environment variable NAME, else `fallback`. */
function option(name, fallback) {
  const raw = arg(name)
  if (raw === undefined) return fallback
  const v = Number(raw)
  if (!Number.isFinite(v)) throw new RangeError(`--${name} must be a number, got ${raw}`)
  return v
}

module.exports = { arg, option }
