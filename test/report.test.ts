import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BEGIN,
  END,
  type SuiteResult,
  figureSpec,
  formatCell,
  renderFigure,
  renderReadmeSection,
  renderReport,
  renderTable,
  replaceSection,
  validate,
} from '../bench/report.mjs'

const SCRIPT = path.join(__dirname, '..', 'bench', 'report.mjs')
const SAMPLE = path.join(__dirname, '..', 'bench', 'fixtures', 'suite-sample.json')
const sample = (): SuiteResult => JSON.parse(fs.readFileSync(SAMPLE, 'utf8'))

function report(...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 })
}

// Cells split on unescaped pipes; the first and last pieces are the empty text outside the borders.
const cells = (line: string) => line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim())

describe('formatCell', () => {
  it('shows null and missing values as a dash, in every format', () => {
    for (const format of ['text', 'ms', 's', 'sci', 'pm', 'x', 'int'] as const) {
      expect(formatCell(null, format)).toBe('—')
      expect(formatCell(undefined, format)).toBe('—')
    }
  })

  it('shows strings as they are, whatever the format', () => {
    expect(formatCell('n/a', 'ms')).toBe('n/a')
    expect(formatCell('diverged', 'pm')).toBe('diverged')
    expect(formatCell('1e-3', 'x')).toBe('1e-3')
  })

  it('ms and s: three significant digits, scientific for tiny and huge values', () => {
    expect(formatCell(0.41, 'ms')).toBe('0.410')
    expect(formatCell(31.74, 'ms')).toBe('31.7')
    expect(formatCell(0.001, 'ms')).toBe('0.00100')
    expect(formatCell(0.00042, 'ms')).toBe('4.20e-4')
    expect(formatCell(1234.5, 'ms')).toBe('1230')
    expect(formatCell(999.7, 'ms')).toBe('1000')
    expect(formatCell(2.5e7, 'ms')).toBe('2.50e+7')
    expect(formatCell(0, 'ms')).toBe('0.00')
    expect(formatCell(52.31, 's')).toBe('52.3')
  })

  it('sci: x.xxe±y, also far out of range', () => {
    expect(formatCell(0.063, 'sci')).toBe('6.30e-2')
    expect(formatCell(2.15, 'sci')).toBe('2.15e+0')
    expect(formatCell(1.234e-300, 'sci')).toBe('1.23e-300')
    expect(formatCell(-5e300, 'sci')).toBe('-5.00e+300')
  })

  it('pm: mean ± std, the mean alone when std is missing, a plain number alike', () => {
    expect(formatCell({ mean: 7e-6, std: 2e-6 }, 'pm')).toBe('7.0e-6 ± 2.0e-6')
    expect(formatCell({ mean: 7e-6 }, 'pm')).toBe('7.0e-6')
    expect(formatCell({ mean: 2.94e-30, std: null }, 'pm')).toBe('2.9e-30')
    expect(formatCell(3.1e-30, 'pm')).toBe('3.1e-30')
    expect(() => formatCell({ std: 1 }, 'pm')).toThrow(/not \{ mean, std \}/)
    expect(() => formatCell({ mean: 1, std: 'x' }, 'pm')).toThrow(/not \{ mean, std \}/)
  })

  it('x: speed-ups with three significant digits and a ×', () => {
    expect(formatCell(168, 'x')).toBe('168×')
    expect(formatCell(2.174, 'x')).toBe('2.17×')
    expect(formatCell(0.47, 'x')).toBe('0.470×')
    expect(formatCell(12345, 'x')).toBe('12300×')
  })

  it('int and text', () => {
    expect(formatCell(1024, 'int')).toBe('1024')
    expect(formatCell(2.6, 'int')).toBe('3')
    expect(formatCell(1e21, 'int')).toBe('1e+21')
    expect(formatCell(0.1)).toBe('0.1')
  })

  it('refuses values it cannot show and unknown formats', () => {
    expect(() => formatCell({ mean: 1 }, 'ms')).toThrow(/is not a number/)
    expect(() => formatCell(true, 'int')).toThrow(/is not a number/)
    expect(() => formatCell(1, 'percent' as never)).toThrow(/unknown format "percent"/)
  })
})

describe('renderTable', () => {
  const table = {
    id: 't',
    columns: [
      { key: 'method', label: 'method | variant' },
      { key: 'ms', label: 'ms', format: 'ms' as const },
      { key: 'err', label: 'RelErr', format: 'pm' as const },
    ],
    rows: [
      { method: 'LU | pivoted', ms: 31.7, err: 3e-30 },
      { method: 'two\nlines', err: { mean: 1e-6, std: 2e-7 } },
    ],
  }

  it('has a header, an alignment row and one line per row, each with one cell per column', () => {
    const lines = renderTable(table).split('\n')
    expect(lines).toHaveLength(2 + table.rows.length)
    for (const line of lines) expect(cells(line)).toHaveLength(table.columns.length)
    expect(cells(lines[1])).toEqual(['---', '---:', '---:'])
    expect(cells(lines[3])).toEqual(['two lines', '—', '1.0e-6 ± 2.0e-7'])
  })

  it('escapes | in labels and cells', () => {
    const lines = renderTable(table).split('\n')
    expect(cells(lines[0])[0]).toBe('method \\| variant')
    expect(cells(lines[2])[0]).toBe('LU \\| pivoted')
  })

  it('names the table, row and column of a cell it cannot format', () => {
    const bad = { ...table, rows: [{ method: 'x', ms: { mean: 1 } }] }
    expect(() => renderTable(bad)).toThrow('table "t", row 1, column "ms": {"mean":1} is not a number')
  })
})

describe('renderReport', () => {
  const md = renderReport(sample())

  it('has the machine, ceilings, targets, every table with its anchor, and the figures, in order', () => {
    const order = [
      '**Machine:** AMD EPYC 7B13, 2 cores (2 threads used), 24 GiB, Linux 6.8.0; rustc 1.95.0',
      'NumPy 2.4.6 (scipy-openblas), Node —',
      '`npm run bench -- --quick`, 20.6 min in total.',
      '- Memory bandwidth: read 14.2, write 9.10, copy 8.30 GB/s',
      '- GEMM: f32 150, f64 75.1 GFLOP/s',
      '## Targets',
      '| SVD n = 512 | ≥ 100× exact SVD | 43× at 5.8e-4 | ❌ |',
      '## <a id="table1"></a>Table 1 — inversion, synthetic family, n = 1024',
      '- The paper\'s times are for an i7-12700KF.',
      '## <a id="table2"></a>Table 2',
      '| exact \\| faer (f64) | 512 | — | 4.17 | 4.8e-9 |',
      '## <a id="refine"></a>Refinement',
      '![Inference time vs matrix size (batch 100)](2026-12-01-sample-quick-time-vs-size.svg)',
      '![Speed-up over NumPy vs batch size (n = 256)](2026-12-01-sample-quick-speedup-vs-batch.svg)',
    ]
    const at = order.map((s) => md.indexOf(s))
    expect(at, order.filter((_, i) => at[i] < 0).join('\n')).not.toContain(-1)
    expect(at).toEqual([...at].sort((a, b) => a - b))
  })

  it('marks met targets ✅', () => {
    expect(md).toContain('| inversion n = 1024, batch 100 | ≥ 50× NumPy inv at RelErr_inv ≤ 1e-4 | 168× at 7.0e-6 | ✅ |')
  })
})

describe('the README section', () => {
  const section = renderReadmeSection(sample(), { dir: 'bench/results', source: 'bench/results/x.json' })
  const at = 'bench/results/2026-12-01-sample-quick'

  it('links the report, holds the targets and every table and figure (results that disagree with the paper stay visible)', () => {
    expect(section).toContain(`[full report](${at}.md)`)
    expect(section).toContain('| SVD n = 512 | ≥ 100× exact SVD | 43× at 5.8e-4 | ❌ |')
    expect(section).toContain(`**[Table 1 — inversion, synthetic family, n = 1024](${at}.md#table1)**`)
    expect(section).toContain('| NeuMatC (f32) | 20 | 52.3 | 0.00960 | 5.8e-4 ± 1.2e-4 |')
    expect(section).toContain(`(${at}.md#refine)**`)
    expect(section).toContain(`![Inference time vs matrix size (batch 100)](${at}-time-vs-size.svg)`)
    expect(section).toContain(`![Speed-up over NumPy vs batch size (n = 256)](${at}-speedup-vs-batch.svg)`)
    expect(section).not.toContain('More figures')
  })

  it('replaces only what lies between the markers, the same way twice', () => {
    const before = '# neumatc\r\n\r\nintro | with a pipe\n\n'
    const after = '\n\n## Later\n\ntext\n'
    const readme = `${before}${BEGIN}\nold results\n${END}${after}`
    const once = replaceSection(readme, section)!
    expect(once.startsWith(`${before}${BEGIN}\n`)).toBe(true)
    expect(once.endsWith(`\n${END}${after}`)).toBe(true)
    expect(once).toContain(section)
    expect(once).not.toContain('old results')
    expect(replaceSection(once, section)).toBe(once)
  })

  it('is null without both markers, in order', () => {
    expect(replaceSection('# no markers\n', section)).toBeNull()
    expect(replaceSection(`${BEGIN}\nonly the start\n`, section)).toBeNull()
    expect(replaceSection(`${END}\n${BEGIN}\n`, section)).toBeNull()
  })
})

describe('figures', () => {
  it('one SVG per figure, with its title and every series name', async () => {
    for (const figure of sample().figures) {
      const svg = await renderFigure(figure)
      expect(svg.startsWith('<svg')).toBe(true)
      expect(svg).toContain(figure.title)
      for (const s of figure.series) expect(svg).toContain(s.name)
    }
  })

  it('log axes where asked, dashes for dashed series only, ticks that are decades or the data', () => {
    const [loglog, linear] = sample().figures
    const spec = figureSpec(loglog) as any
    expect(spec.encoding.x.scale.type).toBe('log')
    expect(spec.encoding.x.axis.values).toEqual([128, 256, 512, 1024, 2048])
    expect(spec.encoding.y.scale.domain).toEqual([0.002, 1000])
    expect(spec.encoding.y.axis.values).toEqual([0.01, 0.1, 1, 10, 100, 1000])
    expect(spec.encoding.strokeDash.scale.range).toEqual([[1, 0], [1, 0], [1, 0], [6, 4]])
    const lin = figureSpec(linear) as any
    expect(lin.encoding.x.scale).toBeUndefined()
    expect(lin.encoding.y.scale).toBeUndefined()
  })

  it('thins the ticks of a log axis over many decades and wraps a long title', () => {
    const decay = Array.from({ length: 60 }, (_, i): [number, number] => [i + 1, Math.max(0.3 ** i, 1e-18)])
    const spec = figureSpec({
      id: 'decay',
      title: 'Singular values of the snapshot matrices (synthetic n = 256, 60 samples of p)',
      x: { label: 'index' },
      y: { label: 'σ_i / σ_1', log: true },
      series: [{ name: 'vec A(p)', points: decay }],
    }) as any
    expect(spec.encoding.y.scale.domain).toEqual([1e-18, 1])
    expect(spec.encoding.y.axis.values).toEqual([1e-18, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1])
    expect(spec.title.text).toEqual(['Singular values of the snapshot matrices (synthetic', 'n = 256, 60 samples of p)'])
  })
})

describe('validate', () => {
  it('accepts the sample', () => {
    expect(() => validate(sample())).not.toThrow()
  })

  it('names the schema it renders', () => {
    expect(() => validate({ ...sample(), schema: 2 })).toThrow('unsupported schema 2: this script renders schema 1')
  })

  it('lists every problem at once', () => {
    const r: any = sample()
    r.tables[0].columns[1].format = 'percent'
    r.figures[0].series[0].points.push([0, 1])
    r.targets[1].met = 'no'
    r.figures[1].id = r.figures[0].id
    const message = (() => {
      try {
        validate(r)
      } catch (e) {
        return (e as Error).message
      }
    })()
    expect(message).toContain('tables[0].columns[1].format "percent" is not one of text, ms, s, sci, pm, x, int')
    expect(message).toContain('figures[0].series[0].points must be [x, y] number pairs')
    expect(message).toContain('targets[1].met must be true or false')
    expect(message).toContain('figure id "time-vs-size" appears twice')
  })
})

describe('node bench/report.mjs (command line)', () => {
  let dir: string
  let json: string
  let readme: string
  const write = (r: unknown) => fs.writeFileSync(json, JSON.stringify(r))
  const files = () => fs.readdirSync(dir).sort()

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neumatc-report-'))
    json = path.join(dir, 'result.json')
    readme = path.join(dir, 'README.md')
    fs.copyFileSync(SAMPLE, json)
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('writes the report and the figures next to the JSON, and the README section, identically twice', () => {
    const head = '# Project\n\nHand-written intro.\n\n'
    const tail = '\n\n## Install\n\nnpm i neumatc\n'
    fs.writeFileSync(readme, `${head}${BEGIN}\nold\n${END}${tail}`)
    const first = report(json, '--readme', readme)
    expect(first.status, first.stderr).toBe(0)
    expect(files()).toEqual([
      '2026-12-01-sample-quick-speedup-vs-batch.svg',
      '2026-12-01-sample-quick-time-vs-size.svg',
      '2026-12-01-sample-quick.md',
      'README.md',
      'result.json',
    ])
    const outputs = () => files().map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    const once = outputs()
    const text = fs.readFileSync(readme, 'utf8')
    expect(text.startsWith(`${head}${BEGIN}\n`)).toBe(true)
    expect(text.endsWith(`\n${END}${tail}`)).toBe(true)
    expect(text).toContain('[full report](2026-12-01-sample-quick.md)')
    expect(text).toContain('`node bench/report.mjs result.json`')
    const second = report(json, '--readme', readme)
    expect(second.status, second.stderr).toBe(0)
    expect(outputs()).toEqual(once)
  })

  it('leaves a README without markers untouched and says so', () => {
    const text = '# Project\n\nNo markers here.\n'
    fs.writeFileSync(readme, text)
    const r = report(json, '--readme', readme)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/has no <!-- bench:begin --> … <!-- bench:end --> markers; left it alone/)
    expect(fs.readFileSync(readme, 'utf8')).toBe(text)
    expect(files()).toContain('2026-12-01-sample-quick.md')
  })

  it('refuses a result without tables, writing nothing', () => {
    const { tables, ...rest } = sample()
    write(rest)
    const r = report(json, '--no-readme')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('invalid result JSON:\n  - "tables" must be an array')
    expect(files()).toEqual(['result.json'])
  })

  it('refuses another schema, writing nothing', () => {
    write({ ...sample(), schema: 2 })
    const r = report(json, '--no-readme')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('report: unsupported schema 2: this script renders schema 1')
    expect(files()).toEqual(['result.json'])
  })

  it('writes nothing, README included, when a cell fails late in rendering', () => {
    const r0 = sample()
    r0.tables[2].rows[1].steps = { mean: 3 }
    write(r0)
    const text = `${BEGIN}\nold\n${END}\n`
    fs.writeFileSync(readme, text)
    const r = report(json, '--readme', readme)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('table "refine", row 2, column "steps": {"mean":3} is not a number')
    expect(files()).toEqual(['README.md', 'result.json'])
    expect(fs.readFileSync(readme, 'utf8')).toBe(text)
  })

  it('says what is wrong with a file that is not JSON', () => {
    fs.writeFileSync(json, '{ "schema": 1,')
    const r = report(json, '--no-readme')
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`report: cannot read ${json}:`)
  })
})
