// Finds a python3 with NumPy for the side-by-side baselines (and safetensors, to check model files), installing NumPy from PyPI into an
// ignored virtual environment (bench/.venv) when the system one lacks it. Never part of `npm install`.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

function hasNumpy(python) {
  try {
    execFileSync(python, ['-c', 'import numpy, scipy, safetensors, threadpoolctl'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Returns a python executable with numpy, scipy and safetensors (the model-file check) and threadpoolctl (BLAS thread control), or null. */
export function setupPython(root) {
  if (process.env.NEUMATC_NO_NUMPY) return null
  const venv = path.join(root, 'bench/.venv')
  const venvPython = path.join(venv, 'bin/python')
  if (existsSync(venvPython) && hasNumpy(venvPython)) return venvPython
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' })
  } catch {
    console.warn('python3 not found: NumPy columns are skipped')
    return null
  }
  try {
    if (!existsSync(venvPython)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' })
    execFileSync(venvPython, ['-m', 'pip', 'install', '--quiet', 'numpy', 'scipy', 'safetensors', 'threadpoolctl'], { stdio: 'inherit' })
    return hasNumpy(venvPython) ? venvPython : null
  } catch (e) {
    console.warn(`could not install NumPy (${e.message}): NumPy columns are skipped`)
    return null
  }
}
