// Turns one paper-suite result (the JSON, schema 1, that `cargo run --release -p neumatc --example paper_suite`
// writes) into a Markdown report and one SVG per figure next to the JSON, and the README's results section.
//
//   node bench/report.mjs <result.json> [--readme README.md] [--no-readme]
//
// Everything written depends only on the JSON (no clock, no paths of this machine), so rendering the
// same file twice changes nothing and the generated files diff cleanly in review.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as vega from 'vega'
import * as vl from 'vega-lite'

export const SCHEMA = 1
export const BEGIN = '<!-- bench:begin -->'
export const END = '<!-- bench:end -->'
const FORMATS = ['text', 'ms', 's', 'sci', 'pm', 'x', 'int']
const DASH = '—'
// Ids and the tag become file names and anchors.
const FILE_STEM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

// ---------- cells and tables ----------

/** Formats one table cell. A string is shown as it is, null or missing as a dash, whatever the format. */
export function formatCell(value, format = 'text') {
  if (value === null || value === undefined) return DASH
  if (typeof value === 'string') return value
  if (format === 'pm') return formatPm(value)
  if (typeof value !== 'number') throw new TypeError(`${JSON.stringify(value)} is not a number, a string or null`)
  switch (format) {
    case 'text':
      return String(value)
    case 'ms':
    case 's':
      return sig3(value)
    case 'sci':
      return value.toExponential(2)
    case 'x':
      return `${sig3(value)}×`
    case 'int':
      return String(Math.round(value))
  }
  throw new TypeError(`unknown format ${JSON.stringify(format)}`)
}

/**
 * `{ mean, std }` as "7.0e-6 ± 2.0e-6"; a plain number like a mean alone. Two digits: a spread is not
 * known better than that, and one precision keeps the column even.
 */
function formatPm(value) {
  if (typeof value === 'number') return value.toExponential(1)
  const { mean, std } = value ?? {}
  if (typeof mean !== 'number' || !(std == null || typeof std === 'number')) {
    throw new TypeError(`${JSON.stringify(value)} is not { mean, std }, a number, a string or null`)
  }
  return std == null ? mean.toExponential(1) : `${mean.toExponential(1)} ± ${std.toExponential(1)}`
}

/** Three significant digits; scientific below 1e-3 and from 1e6 on, where plain notation is a row of zeros. */
function sig3(v) {
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2)
  const p = v.toPrecision(3)
  // toPrecision switches to "1.23e+3" from 1000 on; plain digits read better in a column of times.
  return p.includes('e') ? String(Number(p)) : p
}

/** Makes text safe inside a Markdown table cell: `|` would end the cell, a newline the row. */
export function escapeCell(text) {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** Renders `{ id, columns, rows }` as a Markdown table; numeric columns are right-aligned. */
export function renderTable(table) {
  const line = (cells) => `| ${cells.map(escapeCell).join(' | ')} |`
  const align = table.columns.map((c) => (c.format && c.format !== 'text' ? '---:' : '---'))
  const body = table.rows.map((row, i) => line(table.columns.map((c) => cellAt(table, row, i, c))))
  return [line(table.columns.map((c) => c.label)), line(align), ...body].join('\n')
}

function cellAt(table, row, i, column) {
  try {
    return formatCell(row[column.key], column.format)
  } catch (e) {
    throw new Error(`table "${table.id}", row ${i + 1}, column "${column.key}": ${e.message}`)
  }
}

function renderTargets(targets) {
  return renderTable({
    id: 'targets',
    columns: ['name', 'target', 'measured', 'met', 'note'].map((key) => ({ key, label: key })),
    rows: targets.map((t) => ({ ...t, met: t.met ? '✅' : '❌' })),
  })
}

/** A table's section: heading with its id as anchor, setup, the table, notes. */
function renderTableSection(table) {
  return [
    `## <a id="${table.id}"></a>${table.title}`,
    ...(table.setup ? ['', table.setup] : []),
    '',
    renderTable(table),
    ...(table.notes?.length ? ['', ...table.notes.map((n) => `- ${n}`)] : []),
  ].join('\n')
}

// ---------- the report and the README section ----------

/** File name of a figure's SVG, next to the report. */
export function figureFile(result, figure) {
  return `${result.tag}-${figure.id}.svg`
}

// A machine field as the JSON gives it, or a dash; a measured ceiling to three significant digits.
const v = (x) => formatCell(x)
const g = (x) => formatCell(x, 'ms')

function machineLine(m) {
  return (
    `${v(m.cpu)}, ${v(m.cores)} cores (${v(m.threadsUsed)} threads used), ${v(m.memGiB)} GiB, ${v(m.os)}; ` +
    `${v(m.rustc)}, neumatc ${v(m.neumatc)}, NumPy ${v(m.numpy)}, Node ${v(m.node)}`
  )
}

function duration(seconds) {
  return seconds < 60 ? `${sig3(seconds)} s` : `${sig3(seconds / 60)} min`
}

function renderCeilings(c) {
  const bw = c.memBandwidthGBs ?? {}
  const gemm = c.gemmGflops ?? {}
  return [
    `- Memory bandwidth: read ${g(bw.read)}, write ${g(bw.write)}, copy ${g(bw.copy)} GB/s`,
    `- GEMM: f32 ${g(gemm.f32)}, f64 ${g(gemm.f64)} GFLOP/s`,
    ...(c.note ? ['', c.note] : []),
  ].join('\n')
}

/** The full report, `<tag>.md`. */
export function renderReport(result) {
  return [
    `# ${result.suite} — ${result.date}${result.quick ? ' (quick run)' : ''}`,
    '',
    `**Machine:** ${machineLine(result.machine)}`,
    '',
    `**Command:** \`${result.command}\`, ${duration(result.seconds)} in total.`,
    '',
    '## Ceilings',
    '',
    renderCeilings(result.ceilings),
    '',
    '## Targets',
    '',
    renderTargets(result.targets),
    '',
    ...result.tables.flatMap((t) => [renderTableSection(t), '']),
    ...(result.figures.length ? ['## Figures', ''] : []),
    ...result.figures.flatMap((f) => [`![${linkText(f.title)}](${figureFile(result, f)})`, '']),
  ].join('\n')
}

// Brackets in a title would end the link text early.
function linkText(text) {
  return text.replace(/[[\]]/g, '\\$&')
}

/**
 * The README's results section. `dir` is the report's folder relative to the README (POSIX
 * separators), `source` the JSON's path relative to the README.
 */
export function renderReadmeSection(result, { dir, source }) {
  const at = (name) => path.posix.join(dir, name)
  const report = at(`${result.tag}.md`)
  const m = result.machine
  return [
    `<!-- Generated by \`node bench/report.mjs ${source}\`; edit the JSON or the script, not this section. -->`,
    `\`${result.command}\` on ${v(m.cpu)}, ${v(m.cores)} cores, ${result.date}` +
      `${result.quick ? ' (quick run)' : ''}; [full report](${report}).`,
    '',
    renderTargets(result.targets),
    ...result.tables.flatMap((t) => ['', `**[${linkText(t.title)}](${report}#${t.id})**`, '', renderTable(t)]),
    ...result.figures.flatMap((f) => ['', `![${linkText(f.title)}](${at(figureFile(result, f))})`]),
  ].join('\n')
}

/** `text` with what lies between the bench markers replaced by `section`; null when the markers are missing. */
export function replaceSection(text, section) {
  const begin = text.indexOf(BEGIN)
  const end = begin < 0 ? -1 : text.indexOf(END, begin + BEGIN.length)
  if (end < 0) return null
  return `${text.slice(0, begin + BEGIN.length)}\n${section}\n${text.slice(end)}`
}

// ---------- figures ----------

// Plot area in pixels; with axes, title and legend the SVG comes to about 640×400.
const WIDTH = 560
const HEIGHT = 300
// Without a canvas, Vega estimates a text's width as 0.8 em a character, and lays out on that estimate.
const estimate = (text, fontSize) => 0.8 * fontSize * text.length

/** The Vega-Lite spec of a figure: lines with points, one colour (and dash) per series. */
export function figureSpec(figure) {
  const names = figure.series.map((s) => s.name)
  const values = figure.series.flatMap((s) => s.points.map(([x, y]) => ({ series: s.name, x, y })))
  // Colour and dash share the field and the title, so Vega-Lite draws one legend showing both.
  const bySeries = (scale) => ({ field: 'series', type: 'nominal', title: null, scale: { domain: names, ...scale } })
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: wrap(figure.title, WIDTH / estimate('x', 13)), fontSize: 13 },
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: positional('x', figure.x, values),
      y: positional('y', figure.y, values),
      color: bySeries({ scheme: 'category10' }),
      strokeDash: bySeries({ range: figure.series.map((s) => (s.dashed ? [6, 4] : [1, 0])) }),
    },
    // A stroke symbol shows the dash; below the plot, the legend leaves the plot its full width.
    config: {
      legend: { orient: 'bottom', symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, ...legendGrid(names) },
    },
  }
}

/** Legend columns and label limit such that the legend, as Vega estimates it, is no wider than the plot. */
function legendGrid(names) {
  const labelLimit = WIDTH / 2
  const column = Math.min(labelLimit, Math.max(...names.map((n) => estimate(n, 10)))) + 50
  return { labelLimit, columns: Math.max(1, Math.min(names.length, Math.floor(WIDTH / column))) }
}

/** Breaks a title into lines of at most `max` characters, so a long one does not widen the figure. */
function wrap(text, max) {
  const lines = []
  // At spaces, but not around "=": "n = 256" stays on one line.
  for (const word of text.split(/(?<!=) (?!=)/)) {
    if (lines.length && `${lines.at(-1)} ${word}`.length <= max) lines[lines.length - 1] += ` ${word}`
    else lines.push(word)
  }
  return lines
}

function positional(field, { label, log }, values) {
  if (!log) return { field, type: 'quantitative', title: label }
  const { domain, ticks } = logScale(values.map((v) => v[field]).filter((v) => v !== null), field === 'x')
  return {
    field,
    type: 'quantitative',
    title: label,
    scale: { type: 'log', domain, nice: false },
    // Vega's own log ticks label every 2…9 and overlap; small and large values read best as powers.
    axis: {
      values: ticks,
      labelExpr: "datum.value < 1e-3 || datum.value >= 1e5 ? format(datum.value, '.0e') : format(datum.value, '~g')",
    },
  }
}

/**
 * Domain and tick values of a log axis. Ticks: the distinct x values when few (sizes, batches), else
 * the decades, with their 2s and 5s when the data spans two decades or less. The domain ends at the
 * nearest 1, 2 or 5 outside the data, so no decade is spent on a few points.
 */
function logScale(data, isX) {
  const distinct = [...new Set(data)].sort((a, b) => a - b)
  const [min, max] = [distinct[0], distinct.at(-1)]
  if (isX && distinct.length >= 2 && distinct.length <= 10) return { domain: [min, max], ticks: distinct }
  const lo = Math.floor(Math.log10(min))
  const hi = Math.max(Math.ceil(Math.log10(max)), lo + 1)
  const grid = (steps) =>
    Array.from({ length: hi - lo + 1 }, (_, i) => steps.map((s) => Number(`${s}e${lo + i}`))).flat()
  const ends = grid([1, 2, 5])
  const domain = [ends.findLast((t) => t <= min), ends.find((t) => t >= max && t > min)]
  // Over many decades only every k-th one (counted from 1), so that at most about eight labels share the axis.
  const every = Math.ceil((hi - lo) / 8)
  const inside = (t) => t >= domain[0] && t <= domain[1] && Math.round(Math.log10(t)) % every === 0
  return { domain, ticks: grid(hi - lo <= 2 ? [1, 2, 5] : [1]).filter(inside) }
}

/** The figure as an SVG document, rendered headless (no canvas: text widths are estimated). */
export async function renderFigure(figure) {
  const view = new vega.View(vega.parse(vl.compile(figureSpec(figure)).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

// ---------- validation ----------

/** Checks what the renderers rely on; throws one error that lists every problem found. */
export function validate(result) {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new Error('the result is not a JSON object')
  }
  if (result.schema !== SCHEMA) {
    throw new Error(`unsupported schema ${JSON.stringify(result.schema)}: this script renders schema ${SCHEMA}`)
  }
  const problems = topProblems(result)
  if (problems.length === 0) {
    problems.push(...result.tables.flatMap(tableProblems), ...result.targets.flatMap(targetProblems))
    problems.push(...result.figures.flatMap(figureProblems))
    problems.push(...duplicateIds('table', result.tables), ...duplicateIds('figure', result.figures))
  }
  if (problems.length) throw new Error(`invalid result JSON:\n  - ${problems.join('\n  - ')}`)
}

const isObject = (x) => typeof x === 'object' && x !== null && !Array.isArray(x)
const isStem = (x) => typeof x === 'string' && FILE_STEM.test(x)
const optionalString = (x) => x === undefined || x === null || typeof x === 'string'

function topProblems(r) {
  return [
    ...['suite', 'date', 'command'].filter((k) => typeof r[k] !== 'string').map((k) => `"${k}" must be a string`),
    ...(isStem(r.tag) ? [] : ['"tag" must be a file stem (letters, digits, ".", "_", "-")']),
    ...(typeof r.seconds === 'number' ? [] : ['"seconds" must be a number']),
    ...['machine', 'ceilings'].filter((k) => !isObject(r[k])).map((k) => `"${k}" must be an object`),
    ...['tables', 'targets', 'figures'].filter((k) => !Array.isArray(r[k])).map((k) => `"${k}" must be an array`),
  ]
}

function tableProblems(t, i) {
  const at = `tables[${i}]`
  if (!isObject(t)) return [`${at} must be an object`]
  const problems = []
  if (!isStem(t.id)) problems.push(`${at}.id must be a file stem`)
  if (typeof t.title !== 'string') problems.push(`${at}.title must be a string`)
  if (!optionalString(t.setup)) problems.push(`${at}.setup must be a string`)
  if (!(t.notes === undefined || (Array.isArray(t.notes) && t.notes.every((n) => typeof n === 'string')))) {
    problems.push(`${at}.notes must be an array of strings`)
  }
  if (!Array.isArray(t.columns) || t.columns.length === 0) problems.push(`${at}.columns must be a non-empty array`)
  else problems.push(...t.columns.flatMap((c, j) => columnProblems(c, `${at}.columns[${j}]`)))
  if (!Array.isArray(t.rows) || !t.rows.every(isObject)) problems.push(`${at}.rows must be an array of objects`)
  return problems
}

function columnProblems(c, at) {
  if (!isObject(c) || typeof c.key !== 'string' || typeof c.label !== 'string') {
    return [`${at} must have a string key and label`]
  }
  return c.format === undefined || FORMATS.includes(c.format)
    ? []
    : [`${at}.format ${JSON.stringify(c.format)} is not one of ${FORMATS.join(', ')}`]
}

function targetProblems(t, i) {
  const at = `targets[${i}]`
  if (!isObject(t)) return [`${at} must be an object`]
  return [
    ...['name', 'target', 'measured'].filter((k) => typeof t[k] !== 'string').map((k) => `${at}.${k} must be a string`),
    ...(typeof t.met === 'boolean' ? [] : [`${at}.met must be true or false`]),
    ...(optionalString(t.note) ? [] : [`${at}.note must be a string`]),
  ]
}

function figureProblems(f, i) {
  const at = `figures[${i}]`
  if (!isObject(f)) return [`${at} must be an object`]
  const problems = []
  if (!isStem(f.id)) problems.push(`${at}.id must be a file stem`)
  if (typeof f.title !== 'string') problems.push(`${at}.title must be a string`)
  for (const axis of ['x', 'y']) {
    if (!isObject(f[axis]) || typeof f[axis].label !== 'string') problems.push(`${at}.${axis} must have a string label`)
  }
  if (!Array.isArray(f.series) || f.series.length === 0) {
    return [...problems, `${at}.series must be a non-empty array`]
  }
  if (problems.length) return problems
  return f.series.flatMap((s, j) => seriesProblems(s, `${at}.series[${j}]`, f))
}

function seriesProblems(s, at, figure) {
  if (!isObject(s) || typeof s.name !== 'string') return [`${at} must have a string name`]
  const ok = (v, axis) => (figure[axis].log ? v > 0 : true)
  const valid =
    Array.isArray(s.points) &&
    s.points.every(
      (p) =>
        Array.isArray(p) &&
        p.length === 2 &&
        typeof p[0] === 'number' &&
        ok(p[0], 'x') &&
        (p[1] === null || (typeof p[1] === 'number' && ok(p[1], 'y'))),
    )
  return valid ? [] : [`${at}.points must be [x, y] number pairs (y may be null), positive on a log axis`]
}

function duplicateIds(kind, items) {
  const ids = items.map((x) => x.id)
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))].map((id) => `${kind} id "${id}" appears twice`)
}

// ---------- command line ----------

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function parseCommandLine(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { readme: { type: 'string' }, 'no-readme': { type: 'boolean' } },
  })
  if (positionals.length !== 1) {
    throw new Error('usage: node bench/report.mjs <result.json> [--readme README.md] [--no-readme]')
  }
  if (values.readme && values['no-readme']) throw new Error('--readme and --no-readme exclude each other')
  return {
    json: path.resolve(positionals[0]),
    readme: values['no-readme'] ? null : path.resolve(values.readme ?? path.join(ROOT, 'README.md')),
  }
}

function readResult(file) {
  let result
  try {
    result = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.message}`)
  }
  validate(result)
  return result
}

/** Renders every output in memory, so a bad cell or figure fails before anything is written. */
async function renderOutputs(result, json, readme) {
  const dir = path.dirname(json)
  const outputs = new Map([[path.join(dir, `${result.tag}.md`), renderReport(result)]])
  for (const f of result.figures) outputs.set(path.join(dir, figureFile(result, f)), await renderFigure(f))
  if (readme) {
    const from = path.dirname(readme)
    const posix = (p) => path.relative(from, p).split(path.sep).join('/')
    const section = renderReadmeSection(result, { dir: posix(dir), source: posix(json) })
    const text = replaceSection(readFileSync(readme, 'utf8'), section)
    if (text === null) console.warn(`report: ${readme} has no ${BEGIN} … ${END} markers; left it alone`)
    else outputs.set(readme, text)
  }
  return outputs
}

// Each output goes to a temporary name first and is renamed only once all are written, so a failure
// leaves the previous files as they were rather than a mix of old and new.
function writeAll(outputs) {
  const written = []
  try {
    for (const [file, text] of outputs) {
      const tmp = `${file}.${process.pid}.tmp`
      written.push([tmp, file])
      writeFileSync(tmp, text)
    }
  } catch (e) {
    for (const [tmp] of written) rmSync(tmp, { force: true })
    throw e
  }
  for (const [tmp, file] of written) renameSync(tmp, file)
}

async function main(argv) {
  const { json, readme } = parseCommandLine(argv)
  const outputs = await renderOutputs(readResult(json), json, readme)
  writeAll(outputs)
  for (const file of outputs.keys()) console.log(`wrote ${path.relative(process.cwd(), file)}`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`report: ${e.message}`)
    process.exitCode = 1
  })
}
