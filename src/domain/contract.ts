import type { DatasetSpec } from "./dataset.js"
import type { Violation } from "./errors.js"
import { type Frame, type RawTable, toFrame } from "./table.js"

const MAX_ROWS_LISTED = 10

export interface ValidationResult {
  readonly frame: Frame
  readonly violations: ReadonlyArray<Violation>
  /** Observed facts, recorded with the run whatever the verdict. */
  readonly summary: {
    readonly rows: number
    readonly columns: number
    readonly nullFractions: Readonly<Record<string, number>>
    readonly labels?: Readonly<Record<string, number>>
  }
}

/**
 * Two-layer validation of a parsed CSV against its dataset.yaml: structural (declared columns
 * present, values parse as their dtype), then the contract (row bounds, null fractions, label set,
 * value ranges). Every violation is collected; nothing stops at the first.
 */
export const validateTable = (
  table: RawTable,
  spec: DatasetSpec,
  options: { readonly requireTarget?: boolean } = {}
): ValidationResult => {
  const requireTarget = options.requireTarget ?? true
  const violations: Violation[] = []
  const wanted = requireTarget ? [...spec.features, spec.target] : [...spec.features]
  const missing = wanted.filter((c) => !table.header.includes(c))
  for (const c of missing) {
    violations.push({
      column: c,
      rule: "column_present",
      observed: "missing from the header",
      expected: `a column named "${c}"`,
      rows: [1]
    })
  }
  const { frame, violations: dtypeViolations } = toFrame(table, spec.schema, wanted)
  violations.push(...dtypeViolations)

  const c = spec.constraints
  const n = table.rows.length
  if (n < c.min_rows) {
    violations.push({
      column: null,
      rule: "min_rows",
      observed: `${n} rows`,
      expected: `at least ${c.min_rows}`,
      rows: []
    })
  }
  if (c.max_rows !== undefined && n > c.max_rows) {
    violations.push({
      column: null,
      rule: "max_rows",
      observed: `${n} rows`,
      expected: `at most ${c.max_rows}`,
      rows: []
    })
  }

  const nullFractions: Record<string, number> = {}
  for (const col of frame.columns) {
    const idx = table.header.indexOf(col.name)
    const rows: number[] = []
    let nulls = 0
    for (let i = 0; i < n; i++) {
      if (table.rows[i]![idx] === null) {
        nulls++
        if (rows.length < MAX_ROWS_LISTED) rows.push(table.lines[i]!)
      }
    }
    const frac = n === 0 ? 0 : nulls / n
    nullFractions[col.name] = frac
    const limit = col.name === spec.target ? 0 : (c.null_fractions?.[col.name] ?? c.max_null_fraction)
    if (limit !== undefined && frac > limit + 1e-12) {
      violations.push({
        column: col.name,
        rule: col.name === spec.target ? "target_not_null" : "max_null_fraction",
        observed: `${nulls} empty of ${n} (${frac.toFixed(4)})`,
        expected: `at most ${limit}`,
        rows
      })
    }
  }

  let labels: Record<string, number> | undefined
  const target = frame.columns.find((col) => col.name === spec.target)
  if (target !== undefined && spec.task_type !== "regression") {
    labels = {}
    const bad: number[] = []
    const unexpected = new Set<string>()
    const allowed = c.label_classes === undefined ? undefined : new Set(c.label_classes)
    for (let i = 0; i < n; i++) {
      const v = target.dtype === "string" || target.dtype === "bool" ? target.values[i] : String(target.values[i])
      if (v === null || v === "NaN") continue
      labels[v] = (labels[v] ?? 0) + 1
      if (allowed !== undefined && !allowed.has(v)) {
        unexpected.add(v)
        if (bad.length < MAX_ROWS_LISTED) bad.push(table.lines[i]!)
      }
    }
    if (unexpected.size > 0) {
      violations.push({
        column: spec.target,
        rule: "label_classes",
        observed: `labels not declared: ${[...unexpected].sort().join(", ")}`,
        expected: `one of ${c.label_classes!.join(", ")}`,
        rows: bad
      })
    }
    if (Object.keys(labels).length < 2 && n > 0 && spec.task_type === "classification") {
      violations.push({
        column: spec.target,
        rule: "label_classes",
        observed: `${Object.keys(labels).length} distinct label(s)`,
        expected: "at least 2 classes for classification",
        rows: []
      })
    }
  }

  for (const [name, range] of Object.entries(c.ranges ?? {})) {
    const col = frame.columns.find((x) => x.name === name)
    if (col === undefined) {
      if (!missing.includes(name) && !table.header.includes(name)) {
        violations.push({
          column: name,
          rule: "range",
          observed: "no such column",
          expected: "a range on a declared column",
          rows: []
        })
      }
      continue
    }
    if (col.dtype !== "float" && col.dtype !== "int") continue
    const rows: number[] = []
    let count = 0
    let worst: number | undefined
    for (let i = 0; i < n; i++) {
      const v = col.values[i]!
      if (Number.isNaN(v)) continue
      if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
        count++
        if (worst === undefined) worst = v
        if (rows.length < MAX_ROWS_LISTED) rows.push(table.lines[i]!)
      }
    }
    if (count > 0) {
      violations.push({
        column: name,
        rule: "range",
        observed: `${count} value(s) out of range, e.g. ${worst}`,
        expected: `${range.min ?? "-∞"} ≤ value ≤ ${range.max ?? "∞"}`,
        rows
      })
    }
  }
  return {
    frame,
    violations,
    summary: { rows: n, columns: table.header.length, nullFractions, ...(labels ? { labels } : {}) }
  }
}

/** Infers a dataset.yaml schema from a parsed CSV (used when creating one for a new dataset). */
export const inferSchema = (table: RawTable): Record<string, "float" | "int" | "string" | "bool"> => {
  const out: Record<string, "float" | "int" | "string" | "bool"> = {}
  table.header.forEach((name, j) => {
    let isInt = true,
      isFloat = true,
      isBool = true,
      seen = 0
    for (const row of table.rows) {
      const c = row[j]
      if (c === null || c === undefined) continue
      seen++
      const s = c.trim()
      if (!/^[+-]?\d+$/.test(s)) isInt = false
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) isFloat = false
      if (!/^(true|false|True|False|TRUE|FALSE)$/.test(s)) isBool = false
      if (!isInt && !isFloat && !isBool) break
    }
    out[name] = seen === 0 ? "string" : isBool ? "bool" : isInt ? "int" : isFloat ? "float" : "string"
  })
  return out
}
