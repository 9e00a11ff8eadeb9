// Types of bench/report.mjs, for its tests (the script itself is plain ESM, run without a build step).

export type Format = 'text' | 'ms' | 's' | 'sci' | 'pm' | 'x' | 'int'

export interface Column {
  key: string
  label: string
  format?: Format
}

export interface Table {
  id: string
  title: string
  setup?: string
  readme?: boolean
  columns: Column[]
  rows: Record<string, unknown>[]
  notes?: string[]
}

export interface Target {
  name: string
  target: string
  measured: string
  met: boolean
  note?: string | null
}

export interface Axis {
  label: string
  log?: boolean
}

export interface Figure {
  id: string
  title: string
  readme?: boolean
  x: Axis
  y: Axis
  series: { name: string; points: [number, number | null][]; dashed?: boolean }[]
}

/** One suite result, schema 1. */
export interface SuiteResult {
  schema: 1
  suite: string
  date: string
  tag: string
  quick?: boolean
  command: string
  seconds: number
  machine: Record<string, string | number | null>
  ceilings: {
    memBandwidthGBs?: { read?: number; write?: number; copy?: number }
    gemmGflops?: { f32?: number; f64?: number }
    note?: string
  }
  tables: Table[]
  targets: Target[]
  figures: Figure[]
}

export const SCHEMA: 1
export const BEGIN: string
export const END: string

export function formatCell(value: unknown, format?: Format): string
export function escapeCell(text: string): string
export function renderTable(table: Pick<Table, 'id' | 'columns' | 'rows'>): string
export function figureFile(result: SuiteResult, figure: Figure): string
export function renderReport(result: SuiteResult): string
export function renderReadmeSection(result: SuiteResult, links: { dir: string; source: string }): string
export function replaceSection(text: string, section: string): string | null
export function figureSpec(figure: Figure): Record<string, unknown>
export function renderFigure(figure: Figure): Promise<string>
export function validate(result: unknown): asserts result is SuiteResult
