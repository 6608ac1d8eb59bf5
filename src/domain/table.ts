import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import type { Violation } from "./errors.js"
import type { Dtype } from "./dataset.js"
import { BLANK_ONLY, isMissing, type MissingRule, type MissingTally, missingToken } from "./missing.js"

/** A CSV as read: header and rows of raw cells (null for a missing cell), with each row's line number. */
export interface RawTable {
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>
  /** 1-based line in the file where each data row starts (the header is line 1). */
  readonly lines: ReadonlyArray<number>
}

export type ParseCsvResult =
  | {
      readonly _tag: "ok"
      readonly table: RawTable
      /** Which tokens were read as missing in each column (by header position), and where. */
      readonly missing: MissingTally
    }
  | { readonly _tag: "invalid"; readonly violations: ReadonlyArray<Violation> }

const MAX_ROWS_LISTED = 10

/**
 * Parses CSV text (RFC 4180: quoted fields, embedded commas/newlines, CRLF, a leading BOM) into a
 * RawTable, collecting structural violations (no header, duplicate or empty header names, rows with
 * a different number of cells than the header) instead of stopping at the first. Cells that are
 * missing under `rule` (see domain/missing.ts; by default only blank cells) become null.
 */
export const parseCsv = (text: string, rule: MissingRule = BLANK_ONLY): ParseCsvResult => {
  if (text.replace(/^\uFEFF/, "").trim() === "") {
    return {
      _tag: "invalid",
      violations: [
        { column: null, rule: "non_empty", observed: "empty file", expected: "a header row and data rows", rows: [] }
      ]
    }
  }
  let records: Array<{ record: string[]; info: { lines: number } }>
  try {
    records = parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      trim: false
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>
  } catch (e) {
    const err = e as { message?: string; lines?: number; code?: string }
    // csv-parse names the end of the file for a quote never closed; the person needs the line it opened on.
    const opened = err.code === "CSV_QUOTE_NOT_CLOSED" ? unclosedQuoteLine(text) : undefined
    return {
      _tag: "invalid",
      violations: [
        {
          column: null,
          rule: "csv_syntax",
          observed:
            opened !== undefined
              ? `a quoted field opened at line ${opened} is never closed (it runs to the end of the file)`
              : String(err.message ?? e),
          expected: "well-formed CSV (RFC 4180)",
          rows: opened !== undefined ? [opened] : err.lines ? [err.lines] : []
        }
      ]
    }
  }
  const violations: Violation[] = []
  const [head, ...body] = records
  const header = head!.record.map((h) => h.trim())
  const seen = new Map<string, number>()
  header.forEach((h, i) => {
    if (h === "")
      violations.push({
        column: `#${i + 1}`,
        rule: "header",
        observed: "empty column name",
        expected: "a name for every column",
        rows: [1]
      })
    else if (seen.has(h))
      violations.push({
        column: h,
        rule: "duplicate_header",
        observed: `"${h}" appears more than once`,
        expected: "unique column names",
        rows: [1]
      })
    seen.set(h, i)
  })
  if (body.length === 0) {
    violations.push({
      column: null,
      rule: "non_empty",
      observed: "header only, no data rows",
      expected: "at least one data row",
      rows: []
    })
  }
  const badRows: number[] = []
  let badCount = 0
  const rows: Array<Array<string | null>> = []
  const lines: number[] = []
  // info.lines is the line where a record ends; a record starts after the previous one ended.
  let prevEnd = head!.info.lines
  const tally = header.map(() => new Map<string, { count: number; rows: number[] }>())
  for (const { record, info } of body) {
    const start = prevEnd + 1
    prevEnd = info.lines
    if (record.length !== header.length) {
      badCount++
      if (badRows.length < MAX_ROWS_LISTED) badRows.push(start)
      continue
    }
    const row: Array<string | null> = new Array(record.length)
    for (let j = 0; j < record.length; j++) {
      const c = record[j]!
      if (isMissing(rule, c)) {
        row[j] = null
        const token = missingToken(c)
        const t = tally[j]!.get(token)
        if (t === undefined) tally[j]!.set(token, { count: 1, rows: [start] })
        else if (t.count++ < MAX_ROWS_LISTED) t.rows.push(start)
      } else row[j] = c
    }
    rows.push(row)
    lines.push(start)
  }
  if (badCount > 0) {
    violations.push({
      column: null,
      rule: "column_count",
      observed: `${badCount} row(s) with a different number of cells`,
      expected: `${header.length} cells per row, as in the header`,
      rows: badRows
    })
  }
  return violations.length > 0
    ? { _tag: "invalid", violations }
    : { _tag: "ok", table: { header, rows, lines }, missing: tally }
}

/**
 * The 1-based line where the last quoted field that never closes was opened (RFC 4180: a quote opens a
 * field only at its start; "" inside is an escaped quote). One linear pass, only after a parse failed.
 */
export const unclosedQuoteLine = (text: string): number | undefined => {
  let line = 1
  let inQuote = false
  let openedAt = 0
  let fieldStart = true
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inQuote) {
      if (ch === 34) {
        if (text.charCodeAt(i + 1) === 34) i++
        else inQuote = false
      } else if (ch === 10) line++
      continue
    }
    if (ch === 34 && fieldStart) {
      inQuote = true
      openedAt = line
    } else if (ch === 10) line++
    fieldStart = ch === 44 || ch === 10 || ch === 13
  }
  return inQuote ? openedAt : undefined
}

const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INT_RE = /^[+-]?\d+$/
const BOOL_TRUE = new Set(["true", "True", "TRUE", "1", "yes", "Yes"])
const BOOL_FALSE = new Set(["false", "False", "FALSE", "0", "no", "No"])

/** Parses one cell as the declared dtype; undefined when it does not parse. NaN/inf strings never parse. */
export const parseCell = (cell: string, dtype: Dtype): number | string | undefined => {
  const s = cell.trim()
  switch (dtype) {
    case "float":
      return FLOAT_RE.test(s) ? Number(s) : undefined
    case "int": {
      // + 0: an integer has no negative zero (pandas reads "-0" in an int column as 0).
      if (INT_RE.test(s)) return Number(s) + 0
      // 3.0 is an int written as a float (common in exported CSVs).
      if (FLOAT_RE.test(s)) {
        const v = Number(s)
        return Number.isInteger(v) ? v + 0 : undefined
      }
      return undefined
    }
    case "bool":
      return BOOL_TRUE.has(s) ? "true" : BOOL_FALSE.has(s) ? "false" : undefined
    case "string":
      return cell
  }
}

/** A typed column: numbers (NaN = missing) for float/int, strings (null = missing) for string/bool. */
export type Column =
  | { readonly name: string; readonly dtype: "float" | "int"; readonly values: Float64Array }
  | { readonly name: string; readonly dtype: "string" | "bool"; readonly values: ReadonlyArray<string | null> }

export interface Frame {
  readonly rows: number
  readonly columns: ReadonlyArray<Column>
}

export const column = (frame: Frame, name: string): Column | undefined => frame.columns.find((c) => c.name === name)

/**
 * Converts the named columns of a RawTable to typed columns. Cells that do not parse are reported
 * (column, dtype, first rows) rather than thrown; they become missing values in the frame.
 */
export const toFrame = (
  table: RawTable,
  schema: Readonly<Record<string, Dtype>>,
  columns: ReadonlyArray<string>
): { readonly frame: Frame; readonly violations: ReadonlyArray<Violation> } => {
  const violations: Violation[] = []
  const out: Column[] = []
  const n = table.rows.length
  for (const name of columns) {
    const j = table.header.indexOf(name)
    const dtype = schema[name] ?? "string"
    if (j < 0) continue
    const bad: number[] = []
    let badCount = 0
    let example = ""
    if (dtype === "float" || dtype === "int") {
      const values = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const cell = table.rows[i]![j]
        if (cell === null || cell === undefined) {
          values[i] = NaN
          continue
        }
        const v = parseCell(cell, dtype)
        if (v === undefined) {
          values[i] = NaN
          if (badCount++ === 0) example = cell
          if (bad.length < MAX_ROWS_LISTED) bad.push(table.lines[i]!)
        } else values[i] = v as number
      }
      out.push({ name, dtype, values })
    } else {
      const values: Array<string | null> = new Array(n)
      for (let i = 0; i < n; i++) {
        const cell = table.rows[i]![j]
        if (cell === null || cell === undefined) {
          values[i] = null
          continue
        }
        const v = parseCell(cell, dtype)
        if (v === undefined) {
          values[i] = null
          if (badCount++ === 0) example = cell
          if (bad.length < MAX_ROWS_LISTED) bad.push(table.lines[i]!)
        } else values[i] = v as string
      }
      out.push({ name, dtype, values })
    }
    if (badCount > 0) {
      violations.push({
        column: name,
        rule: "dtype",
        observed: `${badCount} value(s) that are not ${dtype}, e.g. "${example}"`,
        expected:
          dtype === "float"
            ? "finite numbers (NaN/inf are not accepted; leave the cell empty for a missing value)"
            : dtype,
        rows: bad
      })
    }
  }
  return { frame: { rows: n, columns: out }, violations }
}

/** Writes rows of a RawTable (header first) back to CSV text, RFC 4180 quoting, LF line ends. */
export const writeCsv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | null>>): string =>
  stringify([header as string[], ...rows.map((r) => r.map((c) => c ?? ""))], { record_delimiter: "\n" })

export const selectRows = (table: RawTable, idx: ReadonlyArray<number>): RawTable => ({
  header: table.header,
  rows: idx.map((i) => table.rows[i]!),
  lines: idx.map((i) => table.lines[i]!)
})
