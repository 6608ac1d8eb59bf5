import type { DictionaryColumn } from "../domain/columnTable.js"
import { LearnerInputError } from "./matrix.js"

/**
 * A column-oriented table for preprocessing: numeric columns hold Float64Array (NaN = missing);
 * string and bool columns are either dictionary-encoded (Int32Array codes, -1 = missing: what the
 * CSV reader and the Arrow files give, so a ColumnTable is a Frame) or, for a few rows (serving,
 * tests), strings or null (bool values are "true" / "false").
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

export type { DictionaryColumn }

export type Column = NumericColumn | CategoricalColumn

/** Any column preprocessing accepts: a Column or a dictionary-encoded one (from the CSV reader / Arrow). */
export type FrameColumn = Column | DictionaryColumn

export interface Frame {
  readonly rows: number
  readonly columns: ReadonlyArray<Column>
}

/** What the transformer fits and transforms: a Frame, a ColumnTable, or a mix. */
export interface ColumnFrame {
  readonly rows: number
  readonly columns: ReadonlyArray<FrameColumn>
}

/** A raw value of one cell, as it arrives in a serving request or a CSV record. */
export type Scalar = number | string | boolean | null

export const isNumericColumn = (c: FrameColumn): c is NumericColumn => c.dtype === "float" || c.dtype === "int"

export const isDictionaryColumn = (c: FrameColumn): c is DictionaryColumn => "codes" in c

export const columnLength = (c: FrameColumn): number => (isDictionaryColumn(c) ? c.codes.length : c.values.length)

/** A string/bool column as codes into a dictionary of its distinct values (a string column is encoded once). */
export const dictionaryOf = (c: CategoricalColumn | DictionaryColumn): { codes: Int32Array; dictionary: string[] } => {
  if (isDictionaryColumn(c)) return { codes: c.codes, dictionary: [...c.dictionary] }
  const index = new Map<string, number>()
  const dictionary: string[] = []
  const codes = new Int32Array(c.values.length)
  for (let i = 0; i < codes.length; i++) {
    const v = c.values[i]
    if (v === null || v === undefined) {
      codes[i] = -1
      continue
    }
    let k = index.get(v)
    if (k === undefined) {
      k = dictionary.length
      dictionary.push(v)
      index.set(v, k)
    }
    codes[i] = k
  }
  return { codes, dictionary }
}

/** Builds a frame, checking that columns have equal lengths and distinct names. */
export const frame = <C extends FrameColumn = Column>(
  columns: ReadonlyArray<C>
): { readonly rows: number; readonly columns: ReadonlyArray<C> } => {
  const rows = columns.length === 0 ? 0 : columnLength(columns[0]!)
  const seen = new Set<string>()
  for (const c of columns) {
    if (seen.has(c.name)) throw new LearnerInputError(`frame has two columns named ${c.name}`)
    seen.add(c.name)
    if (columnLength(c) !== rows) {
      throw new LearnerInputError(`column ${c.name} has ${columnLength(c)} values, expected ${rows}`)
    }
  }
  return { rows, columns }
}

export const getColumn = (f: Frame, name: string): Column | undefined => f.columns.find((c) => c.name === name)

/** Rows `idx` of every column (a copy; dictionaries are shared); the columns keep their representation. */
export const takeFrameRows = <C extends FrameColumn>(
  f: { readonly rows: number; readonly columns: ReadonlyArray<C> },
  idx: ArrayLike<number>
): { readonly rows: number; readonly columns: ReadonlyArray<C> } => {
  const n = idx.length
  return {
    rows: n,
    columns: f.columns.map((c: FrameColumn): FrameColumn => {
      if (isNumericColumn(c)) {
        const out = new Float64Array(n)
        for (let k = 0; k < n; k++) out[k] = c.values[idx[k]!]!
        return { name: c.name, dtype: c.dtype, values: out }
      }
      if (isDictionaryColumn(c)) {
        const out = new Int32Array(n)
        for (let k = 0; k < n; k++) out[k] = c.codes[idx[k]!]!
        return { name: c.name, dtype: c.dtype, codes: out, dictionary: c.dictionary }
      }
      return { name: c.name, dtype: c.dtype, values: Array.from({ length: n }, (_, k) => c.values[idx[k]!]!) }
    }) as unknown as ReadonlyArray<C>
  }
}

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
