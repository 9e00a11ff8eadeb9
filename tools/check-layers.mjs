#!/usr/bin/env node
// The layer check: reads the engine's `use crate::…` / `super::` / `self::` paths and the `import … from './…'`
// lines of ts/, and fails on an import cycle between files or on an import that points up the layer order
// written in ARCHITECTURE.md (the fenced `layers` block). Prints every offending line.
//
//   node tools/check-layers.mjs [--root DIR] [--arch FILE] [--graph]
//
// Rules (see ARCHITECTURE.md, "The layer check"):
// - A file's layer is the layer of the longest module path listed in the block that contains it
//   (`model` holds model/*.rs; `baseline::gpu` may be listed on its own).
// - A file may import from its own layer or any lower one. Within one top-level module, files may import
//   each other as long as no cycle forms. A module on a higher line is never imported from a lower one.
// - `pub use` of a module's own children (the module's public face, e.g. in mod.rs or lib.rs) is not an
//   import. Any other path through lib.rs (`crate::Error`) points at the top layer and is reported.
// - Unit-test modules (`#[cfg(test)] mod … { … }`) are left out: a test may drive the code from above.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, relative, dirname, basename, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Parses the ```layers block: `rust:`/`ts:` sections, one layer per line (bottom first), names separated by spaces. */
export function parseLayers(markdown) {
  const m = /```layers\n([\s\S]*?)```/.exec(markdown)
  if (!m) throw new Error('ARCHITECTURE.md has no ```layers block')
  const out = {}
  let section = null
  for (const raw of m[1].split('\n')) {
    const line = raw.replace(/#.*$/, '').trim()
    if (!line) continue
    const head = /^(\w+):$/.exec(line)
    if (head) { section = head[1]; out[section] = { rank: new Map(), names: [] }; continue }
    if (!section) throw new Error(`layers block: "${line}" before a section header`)
    const s = out[section]
    const rank = s.names.length
    s.names.push(line)
    for (const name of line.split(/\s+/)) {
      if (s.rank.has(name)) throw new Error(`layers block: ${name} is listed twice`)
      s.rank.set(name, rank)
    }
  }
  return out
}

// ---------- Rust ----------

/** Blanks comments, string and char literals (keeping line breaks and offsets) so that braces and paths can be read. */
export function blankRust(src) {
  let out = ''
  let i = 0
  const n = src.length
  const blank = (s) => s.replace(/[^\n]/g, ' ')
  while (i < n) {
    const c = src[i], d = src[i + 1]
    if (c === '/' && d === '/') { const j = src.indexOf('\n', i); const e = j < 0 ? n : j; out += blank(src.slice(i, e)); i = e; continue }
    if (c === '/' && d === '*') {
      let depth = 1, j = i + 2
      while (j < n && depth > 0) { if (src[j] === '/' && src[j + 1] === '*') { depth++; j += 2 } else if (src[j] === '*' && src[j + 1] === '/') { depth--; j += 2 } else j++ }
      out += blank(src.slice(i, j)); i = j; continue
    }
    const raw = /^(b?r)(#*)"/.exec(src.slice(i, i + 12))
    if (raw && (i === 0 || !/\w/.test(src[i - 1]))) {
      const close = '"' + raw[2]
      const j = src.indexOf(close, i + raw[0].length)
      const e = j < 0 ? n : j + close.length
      out += blank(src.slice(i, e)); i = e; continue
    }
    if (c === '"') {
      let j = i + 1
      while (j < n && src[j] !== '"') j += src[j] === '\\' ? 2 : 1
      out += blank(src.slice(i, j + 1)); i = j + 1; continue
    }
    if (c === "'") {
      const ch = /^'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'/.exec(src.slice(i, i + 12))
      if (ch) { out += blank(ch[0]); i += ch[0].length; continue }
    }
    out += c; i++
  }
  return out
}

/** Blanks `#[cfg(test)] mod name { … }` blocks. */
export function dropTestModules(code) {
  const re = /#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{/g
  let m
  while ((m = re.exec(code))) {
    let depth = 1, j = m.index + m[0].length
    while (j < code.length && depth > 0) { if (code[j] === '{') depth++; else if (code[j] === '}') depth--; j++ }
    code = code.slice(0, m.index) + code.slice(m.index, j).replace(/[^\n]/g, ' ') + code.slice(j)
    re.lastIndex = m.index
  }
  return code
}

/** Expands a use tree (`a::{b, c::{d, e}}`) into paths. */
export function expandUseTree(tree) {
  tree = tree.replace(/\s+as\s+\w+\s*(?=,|\}|$)/g, '').replace(/\s+/g, '')
  const open = tree.indexOf('{')
  if (open < 0) return [tree]
  const prefix = tree.slice(0, open)
  const inner = tree.slice(open + 1, tree.lastIndexOf('}'))
  const parts = []
  let depth = 0, start = 0
  for (let i = 0; i <= inner.length; i++) {
    const ch = inner[i]
    if (ch === '{') depth++
    else if (ch === '}') depth--
    else if ((ch === ',' || i === inner.length) && depth === 0) { if (i > start) parts.push(inner.slice(start, i)); start = i + 1 }
  }
  return parts.flatMap((p) => expandUseTree(p)).map((p) => (p === 'self' ? prefix.replace(/::$/, '') : prefix + p))
}

const lineOf = (code, index) => code.slice(0, index).split('\n').length

/** Lists the Rust files of a crate's src/ as { file, module: ['model', 'check'] }. */
function rustModules(srcDir) {
  const files = []
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.rs')) files.push(p)
    }
  }
  walk(srcDir)
  return files.map((file) => {
    const rel = relative(srcDir, file).replace(/\\/g, '/').replace(/\.rs$/, '').split('/')
    const last = rel[rel.length - 1]
    const module = last === 'mod' || (rel.length === 1 && (last === 'lib' || last === 'main')) ? rel.slice(0, -1) : rel
    return { file, module }
  })
}

/** Every `crate::`/`super::`/`self::` reference of a file, resolved to an absolute module path. */
export function rustReferences(src, module) {
  const code = dropTestModules(blankRust(src))
  const refs = []
  // `super` is the parent of `module` (for mod.rs, `module` is the directory's module).
  const selfPath = module
  // child modules declared here (`mod pod;`): a path starting with one (`pod::fit`, `use pod::X`) is a reference
  const children = new Set([...code.matchAll(/(?:^|[\s;}])(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/g)].map((c) => c[1]))
  const resolvePath = (path) => {
    const segs = path.split('::').filter(Boolean)
    let base
    if (segs[0] === 'crate') base = []
    else if (segs[0] === 'self') base = selfPath.slice()
    else if (segs[0] === 'super') base = selfPath.slice(0, -1)
    else if (children.has(segs[0])) return selfPath.concat(segs.filter((s) => s !== '*'))
    else return null
    let k = 1
    while (segs[k] === 'super') { base = base.slice(0, -1); k++ }
    return base.concat(segs.slice(k).filter((s) => s !== '*'))
  }
  const useRe = /(\bpub(\([^)]*\))?\s+)?\buse\s+([^;]+);/g
  const taken = []
  let m
  while ((m = useRe.exec(code))) {
    taken.push([m.index, m.index + m[0].length])
    const isPub = Boolean(m[1])
    for (const path of expandUseTree(m[3])) {
      const target = resolvePath(path)
      if (!target) continue
      // a module's public face: `pub use` of its own descendants (mod.rs, lib.rs) is not a dependency.
      const facade = isPub && target.length > selfPath.length && selfPath.every((s, i) => target[i] === s)
      if (facade) continue
      refs.push({ target, line: lineOf(code, m.index), text: src.split('\n')[lineOf(code, m.index) - 1].trim() })
    }
  }
  const roots = ['crate', 'super', 'self', ...children].join('|')
  const inline = new RegExp(String.raw`(?<![\w$:])(${roots})((?:::\w+)+)`, 'g')
  while ((m = inline.exec(code))) {
    if (taken.some(([a, b]) => m.index >= a && m.index < b)) continue
    if (m[1] === 'self' && !m[2]) continue
    const target = resolvePath(m[1] + m[2])
    if (!target) continue
    const line = lineOf(code, m.index)
    refs.push({ target, line, text: src.split('\n')[line - 1].trim() })
  }
  return refs
}

/** Analyses one Rust crate: file-level edges, their layers, cycles and upward imports. */
export function checkRust(srcDir, layers) {
  const mods = rustModules(srcDir)
  const byKey = new Map(mods.map((m) => [m.module.join('::'), m]))
  const fileOf = (target) => {
    for (let k = target.length; k >= 0; k--) { const hit = byKey.get(target.slice(0, k).join('::')); if (hit) return hit }
    return null
  }
  const layerOf = (module) => {
    for (let k = module.length; k >= 1; k--) { const r = layers.rank.get(module.slice(0, k).join('::')); if (r !== undefined) return { rank: r, name: module.slice(0, k).join('::') } }
    return module.length === 0 ? { rank: layers.names.length, name: 'lib' } : null
  }
  const problems = []
  const edges = new Map()
  for (const m of mods) {
    const src = readFileSync(m.file, 'utf8')
    const from = layerOf(m.module)
    if (!from) problems.push(`${rel(m.file)}: module ${m.module.join('::')} is in no layer of ARCHITECTURE.md`)
    for (const r of rustReferences(src, m.module)) {
      const to = fileOf(r.target)
      if (!to || to === m) continue
      const key = m.file
      if (!edges.has(key)) edges.set(key, new Map())
      if (!edges.get(key).has(to.file)) edges.get(key).set(to.file, r)
      const tl = to.module.length === 0 ? { rank: Infinity, name: 'lib.rs (the public face)' } : layerOf(to.module)
      if (from && tl && (tl.rank > from.rank || (tl.rank === from.rank && tl.name !== from.name && !sameTop(tl.name, from.name)))) {
        problems.push(`${rel(m.file)}:${r.line}: ${from.name} imports ${tl.name}${tl.rank > from.rank ? ' (a higher layer)' : ' (a peer on the same layer)'}: ${r.text}`)
      }
    }
  }
  problems.push(...cycles(edges).map((c) => `cycle: ${formatCycle(c)}`))
  return { problems: [...new Set(problems)], edges }
}
const sameTop = (a, b) => a.split('::')[0] === b.split('::')[0]

// ---------- TypeScript ----------

export function tsReferences(src) {
  const refs = []
  const code = src.replace(/\/\*[\s\S]*?\*\//g, (s) => s.replace(/[^\n]/g, ' ')).replace(/\/\/.*$/gm, '')
  const clause = String.raw`(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`
  const re = new RegExp(String.raw`^[ \t]*(?:import|export)\s+${clause}\s*from\s*['"](\.{1,2}\/[^'"]+)['"]|^[ \t]*import\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)`, 'gm')
  let m
  while ((m = re.exec(code))) {
    const spec = m[1] || m[2] || m[3]
    const line = lineOf(code, m.index + Math.max(0, m[0].search(/\S/)))
    refs.push({ spec, line, text: src.split('\n')[line - 1].trim() })
  }
  return refs
}

export function checkTs(tsDir, layers) {
  const files = []
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) { if (name !== 'tools') walk(p) } else if (/\.(ts|mts|js)$/.test(name) && !name.endsWith('.d.ts')) files.push(p)
    }
  }
  walk(tsDir)
  const nameOf = (file) => relative(tsDir, file).replace(/\\/g, '/').replace(/\.(ts|mts|js)$/, '')
  const layerOf = (name) => {
    const segs = name.split('/')
    for (let k = segs.length; k >= 1; k--) { const r = layers.rank.get(segs.slice(0, k).join('/')); if (r !== undefined) return { rank: r, name: segs.slice(0, k).join('/') } }
    return null
  }
  const problems = []
  const edges = new Map()
  for (const file of files) {
    const name = nameOf(file)
    const from = layerOf(name)
    if (!from) problems.push(`${rel(file)}: ${name} is in no layer of ARCHITECTURE.md`)
    for (const r of tsReferences(readFileSync(file, 'utf8'))) {
      const targetName = relative(tsDir, resolve(dirname(file), r.spec)).replace(/\\/g, '/').replace(/\.(js|mjs|ts)$/, '')
      const candidates = ['.ts', '.mts', '.js'].map((e) => join(tsDir, targetName + e))
      const target = candidates.find((c) => existsSync(c)) ?? join(tsDir, targetName + '.js')
      if (!edges.has(file)) edges.set(file, new Map())
      if (!edges.get(file).has(target)) edges.get(file).set(target, r)
      const to = layerOf(targetName)
      if (!to) { problems.push(`${rel(file)}:${r.line}: imports ${targetName}, which is in no layer: ${r.text}`); continue }
      if (from && (to.rank > from.rank || (to.rank === from.rank && to.name !== from.name && !sameDir(to.name, from.name)))) {
        problems.push(`${rel(file)}:${r.line}: ${from.name} imports ${to.name}${to.rank > from.rank ? ' (a higher layer)' : ' (a peer on the same layer)'}: ${r.text}`)
      }
    }
  }
  problems.push(...cycles(edges).map((c) => `cycle: ${formatCycle(c)}`))
  return { problems: [...new Set(problems)], edges }
}
const sameDir = (a, b) => a.split('/')[0] === b.split('/')[0]

// ---------- shared ----------

/** Strongly connected components of more than one file, each reported as one closed path through it. */
export function cycles(edges) {
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], out = []
  let counter = 0
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])
  const strong = (v) => {
    index.set(v, counter); low.set(v, counter); counter++; stack.push(v); onStack.add(v)
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }
    if (low.get(v) === index.get(v)) {
      const comp = []
      let w
      do { w = stack.pop(); onStack.delete(w); comp.push(w) } while (w !== v)
      if (comp.length > 1) out.push(pathThrough(comp, edges))
    }
  }
  for (const v of [...nodes].sort()) if (!index.has(v)) strong(v)
  return out
}

/** One closed walk from the component's first file back to itself (BFS inside the component). */
function pathThrough(comp, edges) {
  const set = new Set(comp)
  const start = [...comp].sort()[0]
  // shortest cycle through `start`: BFS to any node with an edge back to start
  const prev = new Map([[start, null]])
  const queue = [start]
  while (queue.length) {
    const v = queue.shift()
    for (const [w] of edges.get(v) ?? []) {
      if (!set.has(w)) continue
      if (w === start) {
        const path = []
        for (let u = v; u !== null; u = prev.get(u)) path.unshift(u)
        const walk = path.map((file, i) => ({ file, ref: edges.get(file).get(path[i + 1] ?? start) }))
        return [...walk, { file: start, ref: null }].concat(comp.length > path.length ? [{ file: null, more: comp.length - path.length, ref: null }] : [])
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w) }
    }
  }
  return comp.map((file) => ({ file, ref: null }))
}

let ROOT = process.cwd()
const formatCycle = (c) =>
  c.map(({ file, ref, more }) => (file === null ? `(${more} more files in this cycle)` : `${rel(file)}${ref ? `:${ref.line} (${ref.text})` : ''}`)).join(' -> ')
const rel = (f) => relative(ROOT, f).replace(/\\/g, '/')

export function run({ root, arch }) {
  ROOT = root
  const layers = parseLayers(readFileSync(arch, 'utf8'))
  const problems = []
  if (layers.rust) problems.push(...checkRust(join(root, 'crates/neumatc/src'), layers.rust).problems)
  if (layers.ts) problems.push(...checkTs(join(root, 'ts'), layers.ts).problems)
  return problems
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const args = process.argv.slice(2)
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt }
  const root = resolve(opt('--root', join(dirname(fileURLToPath(import.meta.url)), '..')))
  const arch = resolve(opt('--arch', join(root, 'ARCHITECTURE.md')))
  let problems
  try { problems = run({ root, arch }) } catch (e) { console.error(`check-layers: ${e.message}`); process.exit(2) }
  if (problems.length) {
    console.error(`check-layers: ${problems.length} problem(s) against ${rel(arch)}:`)
    for (const p of problems) console.error(`  ${p}`)
    process.exit(1)
  }
  console.log(`check-layers: no cycle, no upward import (${basename(arch)})`)
}
