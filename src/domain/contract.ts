import type { DatasetSpec } from "./dataset.js"
import type { Violation } from "./errors.js"
import { describeTokens, missingRule, type MissingRule, type MissingTally } from "./missing.js"
import { type Frame, type RawTable, parseCell, toFrame } from "./table.js"
import { type ColumnTable, isNumeric, type TableColumn } from "./columnTable.js"
import type { ColumnReadInfo, CsvReadOptions } from "./csvReader.js"

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
  options: {
    readonly requireTarget?: boolean
    /** parseCsv's tally of the tokens read as missing: named in messages, and checked against the labels. */
    readonly missing?: MissingTally
  } = {}
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
    const tally = options.missing?.[idx]
    if (col.name === spec.target && spec.task_type !== "regression" && tally !== undefined) {
      // A declared na_values token found among the labels: the file and dataset.yaml disagree.
      const declared = missingRule(spec).declared
      for (const [token, t] of tally) {
        if (!declared.has(token)) continue
        violations.push({
          column: col.name,
          rule: "na_values_label",
          observed: `na_values declares "${token}" as missing, but it appears ${t.count} time(s) as a label of the target "${col.name}"`,
          expected: `a token that is not a label class (remove "${token}" from na_values, or fix those rows)`,
          rows: t.rows
        })
      }
    }
    if (limit !== undefined && frac > limit + 1e-12) {
      const tokens = tally === undefined ? "" : describeTokens(new Map([...tally].map(([k, v]) => [k, v.count])))
      violations.push({
        column: col.name,
        rule: col.name === spec.target ? "target_not_null" : "max_null_fraction",
        observed: `${nulls} missing of ${n} (${frac.toFixed(4)}${tokens === "" ? "" : `; read as missing: ${tokens}`})`,
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

const INT_RE = /^[+-]?\d+$/
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INF_RE = /^[+-]?inf(inity)?$/i
const BOOLS = new Set(["True", "False", "true", "false", "TRUE", "FALSE"])

/**
 * The dtype pandas' `read_csv` would give a column (mapped to driftgate's dtypes), from its cells
 * with missing ones already null (see domain/missing.ts):
 * - every present cell an integer (spaces around it allowed) → int; with a missing cell → float,
 *   because pandas cannot hold NaN in int64 and makes the column float64;
 * - every present cell a decimal/exponent number or inf/Infinity (spaces allowed; a literal that
 *   overflows, like 1e500, is not a number) → float;
 * - every present cell exactly True/False/true/false/TRUE/FALSE → bool (pandas makes a bool column
 *   with missing cells `object` holding True/False/NaN; driftgate keeps it bool, with nulls);
 * - no present cell at all → float (pandas: float64 of NaN);
 * - anything else → string.
 */
export const inferDtype = (cells: ReadonlyArray<string | null | undefined>): "float" | "int" | "string" | "bool" => {
  let isInt = true,
    isFloat = true,
    isBool = true,
    seen = 0,
    missing = false
  for (const c of cells) {
    if (c === null || c === undefined) {
      missing = true
      continue
    }
    seen++
    if (isBool && !BOOLS.has(c)) isBool = false
    if (isInt || isFloat) {
      const s = c.trim()
      if (isInt && !INT_RE.test(s)) isInt = false
      if (isFloat && !(INF_RE.test(s) || (FLOAT_RE.test(s) && Number.isFinite(Number(s))))) isFloat = false
    }
    if (!isInt && !isFloat && !isBool) return "string"
  }
  if (seen === 0) return "float"
  return isBool ? "bool" : isInt ? (missing ? "float" : "int") : isFloat ? "float" : "string"
}

/** Infers a dataset.yaml schema from a parsed CSV (used when creating one for a new dataset), as pandas would. */
export const inferSchema = (table: RawTable): Record<string, "float" | "int" | "string" | "bool"> => {
  const out: Record<string, "float" | "int" | "string" | "bool"> = {}
  table.header.forEach((name, j) => {
    out[name] = inferDtype(table.rows.map((row) => row[j]))
  })
  return out
}

/**
 * inferSchema over a file read by the CSV reader (no declared columns), without a string per cell: a
 * numeric column is int when every cell was an integer literal and none was missing (pandas makes a
 * column with NaN float64), else float; a string column is inferDtype of its dictionary (the distinct
 * present values) plus one missing cell when it had any. A numeric column holding ±Infinity (a literal
 * that overflows, like 1e500) is not a number to pandas: it is listed in `reread`, to be read again as
 * strings and inferred from its text. Same result as inferSchema on parseCsv's rows (tested on the
 * pandas fixtures).
 */
export const inferSchemaColumns = (
  read: Pick<ColumnarInput, "header" | "table" | "info">
): { readonly schema: Record<string, "float" | "int" | "string" | "bool">; readonly reread: string[] } => {
  const schema: Record<string, "float" | "int" | "string" | "bool"> = {}
  const reread: string[] = []
  const infoOf = new Map(read.info.map((i) => [i.name, i]))
  for (const col of read.table.columns) {
    const missing = (infoOf.get(col.name)?.missing ?? 0) > 0
    if (isNumeric(col)) {
      const v = col.values
      let infinite = false
      for (let i = 0; i < v.length; i++)
        if (v[i] === Infinity || v[i] === -Infinity) {
          infinite = true
          break
        }
      if (infinite) reread.push(col.name)
      else schema[col.name] = col.dtype === "int" && !missing ? "int" : "float"
      continue
    }
    schema[col.name] = inferDtype(missing ? [...col.dictionary, null] : col.dictionary)
  }
  return { schema, reread }
}

/** What the CSV reader gives validateColumns (readCsvChunks' result, or the same from another source). */
export interface ColumnarInput {
  readonly header: ReadonlyArray<string>
  readonly table: ColumnTable
  /** Line of row i (header = line 1), or null when row i is on line i + 2. */
  readonly lines: Int32Array | null
  readonly info: ReadonlyArray<ColumnReadInfo>
  /** Structural violations of the read (column counts, quotes, header names). */
  readonly violations: ReadonlyArray<Violation>
}

export interface ColumnarValidation {
  /** The declared columns present, typed as the schema says (bool dictionaries are "false" / "true"). */
  readonly table: ColumnTable
  readonly violations: ReadonlyArray<Violation>
  readonly summary: ValidationResult["summary"]
}

/**
 * The reader options that make a file's columns come out as dataset.yaml declares them: string and
 * bool columns as dictionaries from the first row, numbers as Float64 (a non-number is a dtype
 * violation), under the dataset's missing-value rule.
 */
export const readOptionsFor = (spec: DatasetSpec, rule: MissingRule): CsvReadOptions => {
  const stringColumns = new Set<string>()
  const numericColumns = new Set<string>()
  for (const [name, dtype] of Object.entries(spec.schema)) {
    if (dtype === "float" || dtype === "int") numericColumns.add(name)
    else stringColumns.add(name)
  }
  return { naValues: rule.tokens, naNumbers: rule.numbers, stringColumns, numericColumns }
}

const firstLines = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number[] =>
  [...a, ...b].sort((x, y) => x - y).slice(0, MAX_ROWS_LISTED)

/**
 * Validation of a file read as columns (readOptionsFor's options) against its dataset.yaml: the same
 * rules and sentences as validateTable — structure, declared columns present, dtypes, row bounds,
 * null fractions (naming the tokens read as missing), target not null, the label set, value ranges.
 */
export const validateColumns = (
  read: ColumnarInput,
  spec: DatasetSpec,
  options: { readonly requireTarget?: boolean } = {}
): ColumnarValidation => {
  const requireTarget = options.requireTarget ?? true
  // a file that is not well-formed CSV is reported as such, before any contract check (as rows are unreliable)
  const structural = read.violations.filter((v) => v.rule !== "dtype")
  if (structural.length > 0) {
    return {
      table: { rows: 0, columns: [] },
      violations: structural,
      summary: { rows: 0, columns: read.header.length, nullFractions: {} }
    }
  }
  // the reader's own dtype findings are restated below in the contract's words (with int and bool checks)
  const violations: Violation[] = []
  const n = read.table.rows
  const lineOf = (i: number): number => (read.lines === null ? i + 2 : read.lines[i]!)
  const wanted = requireTarget ? [...spec.features, spec.target] : [...spec.features]
  const missing = wanted.filter((c) => !read.header.includes(c))
  for (const c of missing) {
    violations.push({
      column: c,
      rule: "column_present",
      observed: "missing from the header",
      expected: `a column named "${c}"`,
      rows: [1]
    })
  }
  const infoOf = new Map(read.info.map((i) => [i.name, i]))
  const columns: TableColumn[] = []
  for (const name of wanted) {
    const col = read.table.columns.find((c) => c.name === name)
    if (col === undefined) continue
    const dtype = spec.schema[name] ?? "string"
    const info = infoOf.get(name)
    if (dtype === "float" || dtype === "int") {
      if (!isNumeric(col)) {
        columns.push(col)
        continue
      }
      let values = col.values
      let badCount = info?.notNumeric ?? 0
      let example = info?.notNumericExample ?? ""
      let bad: number[] = [...(info?.notNumericLines ?? [])]
      if (dtype === "int") {
        // 3.0 is an int written as a float; 3.5 is not an int. No negative zero in an int column.
        const fracLines: number[] = []
        let fracCount = 0
        let fracExample = ""
        values = new Float64Array(n)
        for (let i = 0; i < n; i++) {
          const v = col.values[i]!
          if (v === v && v !== Math.trunc(v)) {
            values[i] = NaN
            if (fracCount++ === 0) fracExample = String(v)
            if (fracLines.length < MAX_ROWS_LISTED) fracLines.push(lineOf(i))
          } else values[i] = v + 0
        }
        if (fracCount > 0 && (badCount === 0 || fracLines[0]! < bad[0]!)) example = fracExample
        badCount += fracCount
        bad = firstLines(bad, fracLines)
      }
      if (badCount > 0) violations.push(dtypeViolation(name, dtype, badCount, example, bad))
      columns.push({ name, dtype, values })
      continue
    }
    if (isNumeric(col)) {
      columns.push(col)
      continue
    }
    if (dtype === "bool") {
      // true/True/TRUE/1/yes/Yes and their false counterparts; anything else does not parse
      const dictionary = ["false", "true"]
      const map = col.dictionary.map((d) => {
        const v = parseCell(d, "bool")
        return v === "false" ? 0 : v === "true" ? 1 : -2
      })
      const codes = new Int32Array(n)
      const bad: number[] = []
      let badCount = 0
      let example = ""
      for (let i = 0; i < n; i++) {
        const k = col.codes[i]!
        const m = k < 0 ? -1 : map[k]!
        if (m === -2) {
          codes[i] = -1
          if (badCount++ === 0) example = col.dictionary[k]!
          if (bad.length < MAX_ROWS_LISTED) bad.push(lineOf(i))
        } else codes[i] = m
      }
      if (badCount > 0) violations.push(dtypeViolation(name, dtype, badCount, example, bad))
      columns.push({ name, dtype: "bool", codes, dictionary })
      continue
    }
    columns.push({ name, dtype: "string", codes: col.codes, dictionary: col.dictionary })
  }
  const table: ColumnTable = { rows: n, columns }

  const c = spec.constraints
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
  const declared = missingRule(spec).declared
  for (const col of columns) {
    const tally = infoOf.get(col.name)?.missingTally ?? new Map<string, { count: number; rows: number[] }>()
    let nulls = 0
    let rows: number[] = []
    for (const t of tally.values()) {
      nulls += t.count
      rows = firstLines(rows, t.rows)
    }
    const frac = n === 0 ? 0 : nulls / n
    nullFractions[col.name] = frac
    const limit = col.name === spec.target ? 0 : (c.null_fractions?.[col.name] ?? c.max_null_fraction)
    if (col.name === spec.target && spec.task_type !== "regression") {
      // A declared na_values token found among the labels: the file and dataset.yaml disagree.
      for (const [token, t] of tally) {
        if (!declared.has(token)) continue
        violations.push({
          column: col.name,
          rule: "na_values_label",
          observed: `na_values declares "${token}" as missing, but it appears ${t.count} time(s) as a label of the target "${col.name}"`,
          expected: `a token that is not a label class (remove "${token}" from na_values, or fix those rows)`,
          rows: t.rows
        })
      }
    }
    if (limit !== undefined && frac > limit + 1e-12) {
      const tokens = describeTokens(new Map([...tally].map(([k, v]) => [k, v.count])))
      violations.push({
        column: col.name,
        rule: col.name === spec.target ? "target_not_null" : "max_null_fraction",
        observed: `${nulls} missing of ${n} (${frac.toFixed(4)}${tokens === "" ? "" : `; read as missing: ${tokens}`})`,
        expected: `at most ${limit}`,
        rows
      })
    }
  }

  let labels: Record<string, number> | undefined
  const target = columns.find((col) => col.name === spec.target)
  if (target !== undefined && spec.task_type !== "regression") {
    labels = {}
    const bad: number[] = []
    const unexpected = new Set<string>()
    const allowed = c.label_classes === undefined ? undefined : new Set(c.label_classes)
    const counts = new Map<string, number>()
    if (isNumeric(target)) {
      for (let i = 0; i < n; i++) {
        const v = target.values[i]!
        if (v !== v) continue
        const s = String(v)
        counts.set(s, (counts.get(s) ?? 0) + 1)
        if (allowed !== undefined && !allowed.has(s)) {
          unexpected.add(s)
          if (bad.length < MAX_ROWS_LISTED) bad.push(lineOf(i))
        }
      }
    } else {
      const perCode = new Float64Array(target.dictionary.length)
      const disallowed = target.dictionary.map((d) => allowed !== undefined && !allowed.has(d))
      for (let i = 0; i < n; i++) {
        const k = target.codes[i]!
        if (k < 0) continue
        perCode[k]!++
        if (disallowed[k]) {
          unexpected.add(target.dictionary[k]!)
          if (bad.length < MAX_ROWS_LISTED) bad.push(lineOf(i))
        }
      }
      target.dictionary.forEach((d, k) => {
        if (perCode[k]! > 0) counts.set(d, (counts.get(d) ?? 0) + perCode[k]!)
      })
    }
    // first-seen order, as the row-by-row count had it
    for (const [k, v] of counts) labels[k] = v
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
    const col = columns.find((x) => x.name === name)
    if (col === undefined) {
      if (!missing.includes(name) && !read.header.includes(name)) {
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
    if (!isNumeric(col)) continue
    const rows: number[] = []
    let count = 0
    let worst: number | undefined
    for (let i = 0; i < n; i++) {
      const v = col.values[i]!
      if (Number.isNaN(v)) continue
      if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
        count++
        if (worst === undefined) worst = v
        if (rows.length < MAX_ROWS_LISTED) rows.push(lineOf(i))
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
    table,
    violations,
    summary: { rows: n, columns: read.header.length, nullFractions, ...(labels ? { labels } : {}) }
  }
}

const dtypeViolation = (name: string, dtype: string, count: number, example: string, rows: number[]): Violation => ({
  column: name,
  rule: "dtype",
  observed: `${count} value(s) that are not ${dtype}, e.g. "${example}"`,
  expected:
    dtype === "float" ? "finite numbers (NaN/inf are not accepted; leave the cell empty for a missing value)" : dtype,
  rows
})
