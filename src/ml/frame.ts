import { LearnerInputError } from "./matrix.js"

/**
 * A column-oriented table for preprocessing: numeric columns hold Float64Array (NaN = missing),
 * string and bool columns hold strings or null (bool values are "true" / "false").
 */
export type Dtype = "float" | "int" | "string" | "bool"

export interface NumericColumn {
  readonly name: string
  readonly dtype: "float" | "int"
  readonly values: Float64Array
}

export interface CategoricalColumn {
  readonly name: string
  readonly dtype: "string" | "bool"
  readonly values: ReadonlyArray<string | null>
}

export type Column = NumericColumn | CategoricalColumn

export interface Frame {
  readonly rows: number
  readonly columns: ReadonlyArray<Column>
}

/** A raw value of one cell, as it arrives in a serving request or a CSV record. */
export type Scalar = number | string | boolean | null

export const isNumericColumn = (c: Column): c is NumericColumn => c.dtype === "float" || c.dtype === "int"

/** Builds a frame, checking that columns have equal lengths and distinct names. */
export const frame = (columns: ReadonlyArray<Column>): Frame => {
  const rows = columns.length === 0 ? 0 : columns[0]!.values.length
  const seen = new Set<string>()
  for (const c of columns) {
    if (seen.has(c.name)) throw new LearnerInputError(`frame has two columns named ${c.name}`)
    seen.add(c.name)
    if (c.values.length !== rows) {
      throw new LearnerInputError(`column ${c.name} has ${c.values.length} values, expected ${rows}`)
    }
  }
  return { rows, columns }
}

export const getColumn = (f: Frame, name: string): Column | undefined => f.columns.find((c) => c.name === name)

/** Rows `idx` of every column (a copy). */
export const takeFrameRows = (f: Frame, idx: ArrayLike<number>): Frame => ({
  rows: idx.length,
  columns: f.columns.map((c): Column =>
    isNumericColumn(c)
      ? {
          name: c.name,
          dtype: c.dtype,
          values: Float64Array.from({ length: idx.length }, (_, k) => c.values[idx[k]!]!)
        }
      : { name: c.name, dtype: c.dtype, values: Array.from({ length: idx.length }, (_, k) => c.values[idx[k]!]!) }
  )
})

/** Reads a cell as a number (NaN for null / missing); numeric strings are accepted. */
export const toNumber = (v: Scalar | undefined, column: string): number => {
  if (v === null || v === undefined) return NaN
  if (typeof v === "number") return v
  if (typeof v === "string") {
    const t = v.trim()
    if (t === "") return NaN
    const x = Number(t)
    if (!Number.isNaN(x)) return x
  }
  throw new LearnerInputError(`column ${column} is numeric but got ${JSON.stringify(v)}`)
}

/** Reads a cell as a category (null for missing); booleans become "true" / "false". */
export const toCategory = (v: Scalar | undefined): string | null => {
  if (v === null || v === undefined) return null
  if (typeof v === "number") return Number.isNaN(v) ? null : String(v)
  return String(v)
}

/** Builds a frame from records and a column schema (values are converted with toNumber / toCategory). */
export const frameFromRecords = (
  records: ReadonlyArray<Readonly<Record<string, Scalar>>>,
  schema: ReadonlyArray<{ readonly name: string; readonly dtype: Dtype }>
): Frame =>
  frame(
    schema.map((s): Column =>
      s.dtype === "float" || s.dtype === "int"
        ? { name: s.name, dtype: s.dtype, values: Float64Array.from(records, (r) => toNumber(r[s.name], s.name)) }
        : { name: s.name, dtype: s.dtype, values: records.map((r) => toCategory(r[s.name])) }
    )
  )
