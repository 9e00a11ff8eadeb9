// The layer check (tools/check-layers.mjs): it must catch what the engine looked like before it was
// layered (a fixture in test/fixtures/layers reproduces each kind of fault), ignore what is not an
// import, and pass on the repository as it is.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ES module without type declarations
import { blankRust, expandUseTree, parseLayers, run, tsReferences } from '../tools/check-layers.mjs'

const ROOT = path.join(__dirname, '..')
const FIXTURE = path.join(__dirname, 'fixtures', 'layers')
const CHECK = path.join(ROOT, 'tools', 'check-layers.mjs')

describe('check-layers on a fixture laid out like the engine before issue 16', () => {
  const problems: string[] = run({ root: FIXTURE, arch: path.join(FIXTURE, 'ARCHITECTURE.md') })

  it('reports an import through lib.rs', () => {
    expect(problems).toContain(
      'crates/neumatc/src/error.rs:2: error imports lib.rs (the public face) (a higher layer): use crate::Result;',
    )
  })

  it('reports an upward import with its line', () => {
    expect(problems).toContain('crates/neumatc/src/model/mod.rs:5: model imports train (a higher layer): use crate::train::TrainReport;')
  })

  it('reports a cycle between files of one module (super:: paths, inline paths included)', () => {
    const cycle = problems.find((p) => p.startsWith('cycle: crates/neumatc/src/train/fit.rs'))
    expect(cycle).toBeDefined()
    expect(cycle).toContain('train/stage.rs:3 (pub fn run() -> Option<super::fit::Fit> {)')
  })

  it('reports the cycle the upward import closes', () => {
    expect(problems.some((p) => /^cycle: .*model\/mod\.rs.*train\/mod\.rs/.test(p))).toBe(true)
  })

  it('checks the TypeScript imports too', () => {
    expect(problems).toContain("ts/errors.ts:2: errors imports model (a higher layer): import type { Model } from './model.js'")
    expect(problems.some((p) => p.startsWith('cycle: ts/errors.ts'))).toBe(true)
  })

  it('ignores comments, strings, unit-test modules, the public re-exports and module facades', () => {
    // error.rs names crate::train and crate::model only in a comment and a string; model/mod.rs's
    // #[cfg(test)] module imports train; lib.rs re-exports everything; model/mod.rs re-exports view.
    expect(problems).toHaveLength(6)
    expect(problems.filter((p) => p.includes('lib.rs:'))).toEqual([])
    expect(problems.filter((p) => p.includes('view.rs'))).toEqual([])
  })

  it('fails from the command line with exit code 1 and prints each offending line', () => {
    const r = spawnSync(process.execPath, [CHECK, '--root', FIXTURE], { encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('6 problem(s)')
    expect(r.stderr).toContain('use crate::train::TrainReport;')
  })
})

describe('check-layers on the repository', () => {
  it('passes: no cycle, no upward import', () => {
    const r = spawnSync(process.execPath, [CHECK], { encoding: 'utf8', cwd: ROOT })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('no cycle, no upward import')
  })

  it('knows every engine module and every TS module (a new one must be placed in ARCHITECTURE.md)', () => {
    const layers = parseLayers(fs.readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8'))
    expect([...layers.rust.rank.keys()]).toEqual(
      expect.arrayContaining(['error', 'linalg', 'op', 'model', 'train', 'baseline', 'family', 'sparse', 'sampling']),
    )
    expect(layers.ts.rank.get('cli')).toBeGreaterThan(layers.ts.rank.get('index'))
  })
})

describe('check-layers parsing', () => {
  it('expands nested use trees, self and renames', () => {
    expect(expandUseTree('crate::{a::B, c::{self, d::E as F}, baseline}')).toEqual([
      'crate::a::B',
      'crate::c',
      'crate::c::d::E',
      'crate::baseline',
    ])
  })

  it('blanks comments, strings, raw strings and char literals but keeps lines and lifetimes', () => {
    const src = 'let a = "x::y"; // crate::q\nlet b = r#"crate::z"#;\nlet c = \'{\';\nfn f<\'a>(x: &\'a str) {}\n/* crate::w */'
    const out = blankRust(src)
    expect(out.split('\n')).toHaveLength(5)
    expect(out).not.toMatch(/crate::|x::y|\{'/)
    expect(out).toContain("fn f<'a>(x: &'a str) {}")
  })

  it('reads multi-line and type-only TS imports, in the no-semicolon style', () => {
    const refs = tsReferences("import * as os from 'node:os'\nimport {\n  a,\n  type B,\n} from './x.js'\nexport { c } from './y.js'\nconst z = 1\n")
    expect(refs.map((r: { spec: string; line: number }) => [r.spec, r.line])).toEqual([
      ['./x.js', 2],
      ['./y.js', 6],
    ])
  })
})
