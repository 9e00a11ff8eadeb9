// Serving a model over HTTP with node:http. Trains a learned inverse (or loads the file given with
// --model if it exists), saves it, loads it back with NeuMatC.load and serves it:
//
//   GET /info                    the model: operation, shape, domain, training report summary
//   GET /predict?p=0.3,0.7[&b=…] x = Ĝ(p) b for each p (model.apply; b defaults to all ones):
//                                n numbers per parameter instead of the n² of the whole inverse
//   GET /predict?p=…&tol=1e-12   x solved to that relative residual (model.refine: iterative
//                                refinement preconditioned by Ĝ(p), exact LU where it cannot converge)
//   GET /check?p=0.3,0.7         ‖A(p)Ĝ(p) − I‖_F/√n and ‖I − A(p)Ĝ(p)‖₂ per parameter (model.check)
//
// Bad input answers 400 with the error's code (e.g. OUT_OF_DOMAIN for p outside the trained box).
// The example starts the server on an ephemeral port, makes a few requests with fetch, prints them
// and closes the server.
//
//   node examples/serve.mjs                          # n = 32: trains in about a second
//   node examples/serve.mjs --model inv.neumatc      # trains and saves once, loads on later runs
//   node examples/serve.mjs --keep --port 8080       # keep serving: curl 'localhost:8080/check?p=0.5'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Family, NeuMatC, NeuMatCError } from 'neumatc'
import { arg, option } from './options.cjs'

const n = option('n', 32)
const steps = option('steps', 500)
const seed = option('seed', 1)
const port = option('port', 0) // 0: any free port
const maxResidual = option('max-residual', 1e-2)
const keep = process.argv.includes('--keep')
const MAX_BATCH = 1000

// ---- the model: train and save, or load ----
const tempDir = arg('model') === undefined ? mkdtempSync(join(tmpdir(), 'neumatc-serve-')) : undefined
if (tempDir !== undefined) process.on('exit', () => rmSync(tempDir, { recursive: true, force: true })) // also after an error
const file = arg('model') ?? join(tempDir, 'inverse.neumatc')
if (existsSync(file)) {
  console.log(`loading ${file}`)
} else {
  const trained = await NeuMatC.train(Family.synthetic({ n, seed }), 'inverse', { seed, steps })
  await trained.save(file) // atomic: a temporary file, fsync, rename
  console.log(`trained in ${trained.report.seconds.toFixed(2)} s and saved to ${file}`)
}
const model = await NeuMatC.load(file)
if (model.operation !== 'inverse') throw new Error(`${file}: expected an inverse model, got ${model.operation}`)
const size = model.spec.cols

// ---- the HTTP side ----
class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** A comma-separated list of finite numbers from the query. */
function numbers(query, name, { required = true } = {}) {
  const raw = query.get(name)
  if (raw === null || raw === '') {
    if (required) throw new HttpError(400, 'BAD_REQUEST', `query parameter ${name} is required, e.g. ?${name}=0.3,0.7`)
    return undefined
  }
  const values = raw.split(',').map(Number)
  if (values.some((v) => !Number.isFinite(v))) throw new HttpError(400, 'BAD_REQUEST', `${name} must be comma-separated numbers`)
  return Float64Array.from(values)
}

/** The parameters of a request: `paramDim` values per parameter vector. */
function params(query) {
  const p = numbers(query, 'p')
  if (p.length % model.paramDim !== 0) throw new HttpError(400, 'BAD_REQUEST', `p needs ${model.paramDim} values per parameter`)
  if (p.length / model.paramDim > MAX_BATCH) throw new HttpError(400, 'BAD_REQUEST', `at most ${MAX_BATCH} parameters per request`)
  return p
}

/** f32 results at their own precision, so the JSON does not carry spurious digits. */
const round = (v) => Number(v.toPrecision(7))

const routes = {
  '/info': () => ({
    operation: model.operation,
    n: size,
    paramDim: model.paramDim,
    domain: model.domain,
    dtype: model.dtype,
    latentDim: model.latentDim,
    heldOutRelErr: model.report.heldOutRelErr,
  }),
  '/predict': async (query) => {
    const p = params(query)
    const b = numbers(query, 'b', { required: false }) ?? new Float64Array(size).fill(1)
    const tol = numbers(query, 'tol', { required: false })
    const rows = (x, digits) => {
      const out = []
      for (let i = 0; i < x.batch; i++) out.push(Array.from(x.data.subarray(i * size, (i + 1) * size), digits))
      return out
    }
    if (tol === undefined) {
      const x = await model.apply(p, b) // (batch, n, 1) f32; ShapeMismatchError if b has the wrong length
      return { p: Array.from(p), x: rows(x, round) }
    }
    const { x, iterations, residual, fellBack } = await model.refine(p, b, { tol: tol[0] }) // f64
    return { p: Array.from(p), x: rows(x, Number), iterations: Array.from(iterations), residual: Array.from(residual), fellBack }
  },
  '/check': async (query) => {
    const p = params(query)
    const { residual, measures } = await model.check(p)
    return { p: Array.from(p), residual: Array.from(residual), contraction: Array.from(measures.contraction) }
  },
}

/** Errors caused by the request answer 400 with their code; anything else is a 500. */
const CLIENT_CODES = new Set(['OUT_OF_DOMAIN', 'INVALID_INPUT', 'INVALID_OPTION', 'SHAPE_MISMATCH'])
function errorResponse(e) {
  if (e instanceof HttpError) return [e.status, { error: e.code, message: e.message }]
  if (e instanceof NeuMatCError && CLIENT_CODES.has(e.code)) return [400, { error: e.code, message: e.message }]
  if (e instanceof TypeError || e instanceof RangeError) return [400, { error: 'BAD_REQUEST', message: e.message }]
  console.error(e)
  return [500, { error: 'INTERNAL', message: 'internal error' }]
}

const server = createServer(async (req, res) => {
  let status = 200
  let body
  try {
    const url = new URL(req.url, 'http://localhost')
    if (req.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'only GET')
    const route = routes[url.pathname]
    if (route === undefined) throw new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}; try /info, /predict or /check`)
    body = await route(url.searchParams)
  } catch (e) {
    ;[status, body] = errorResponse(e)
  }
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
})
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`
console.log(`serving ${model.operation} n = ${size} at ${base}`)

if (keep) {
  console.log(`try: curl '${base}/predict?p=0.3,0.7'   curl '${base}/check?p=0.1,0.5,0.9'   (Ctrl-C stops)`)
  process.once('SIGINT', () => process.exit(0)) // runs the 'exit' handler above
} else {
  // ---- a client: a few requests, printed ----
  const show = (v) => JSON.stringify(v, (_, x) => (Array.isArray(x) && x.length > 6 ? [...x.slice(0, 4), `… ${x.length - 4} more`] : x))
  async function get(path) {
    const res = await fetch(base + path)
    const body = await res.json()
    console.log(`GET ${path} -> ${res.status} ${show(body)}`)
    return { status: res.status, body }
  }
  try {
    await get('/info')

    const predicted = await get('/predict?p=0.3,0.7')
    assert.equal(predicted.status, 200)
    assert.equal(predicted.body.x.length, 2)
    assert.equal(predicted.body.x[0].length, size)

    // The same answers solved to 1e-12: the learned x = Ĝ(p) b is close to them.
    const refined = await get('/predict?p=0.3,0.7&tol=1e-12')
    assert.equal(refined.status, 200)
    for (const [i, x] of refined.body.x.entries()) {
      const diff = Math.hypot(...x.map((v, j) => v - predicted.body.x[i][j])) / Math.hypot(...x)
      console.log(`  p = ${refined.body.p[i]}: ‖x_apply − x_refined‖/‖x_refined‖ = ${diff.toExponential(2)}`)
      assert.ok(diff < maxResidual, `apply differs from the refined solution by ${diff}`)
    }

    const checked = await get('/check?p=0.1,0.5,0.9')
    assert.equal(checked.status, 200)
    for (const r of checked.body.residual) assert.ok(r < maxResidual, `residual ${r} is not below ${maxResidual}`)

    const outside = await get('/predict?p=1.5')
    assert.equal(outside.status, 400)
    assert.equal(outside.body.error, 'OUT_OF_DOMAIN')

    assert.equal((await get('/predict?p=0.5,x')).status, 400)
    assert.equal((await get('/nowhere')).status, 404)
    console.log(`ok: /check residuals and /predict errors < ${maxResidual}, bad requests answered 400/404`)
  } finally {
    server.close()
    server.closeAllConnections() // fetch keeps connections alive; close them so the process can exit
  }
}
