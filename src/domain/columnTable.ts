/**
 * The in-memory table of the columnar data path: one typed array per column, no per-row objects and
 * no per-cell strings. Numbers are Float64Array with NaN for a missing cell (int and float alike);
 * strings and booleans are dictionary-encoded: Int32Array codes into a string[] dictionary, -1 for a
 * missing cell (a bool column's dictionary holds "false" / "true").
 */
export interface NumericColumn {
  readonly name: string
  readonly dtype: "float" | "int"
  readonly values: Float64Array
}

export interface DictionaryColumn {
  readonly name: string
  readonly dtype: "string" | "bool"
  /** Index into `dictionary`, -1 for missing. */
  readonly codes: Int32Array
  /** Distinct values (no missing token among them), in first-seen order unless stated otherwise. */
  readonly dictionary: ReadonlyArray<string>
}

export type TableColumn = NumericColumn | DictionaryColumn

export interface ColumnTable {
  readonly rows: number
  readonly columns: ReadonlyArray<TableColumn>
}

export const isNumeric = (c: TableColumn): c is NumericColumn => c.dtype === "float" || c.dtype === "int"

export const tableColumn = (t: ColumnTable, name: string): TableColumn | undefined =>
  t.columns.find((c) => c.name === name)

/**
 * Rows at which takeTableRows puts number columns on shared memory: a split this large is profiled for
 * drift on a thread of its own (DriftDetector.startProfile), which then reads the columns without a copy
 * (copying a million-row split's columns there cost ~0.2 s).
 */
const SHARED_COLUMN_ROWS = 100_000

/** Rows `idx` of every column, in `idx` order (a copy; dictionaries are shared). */
export const takeTableRows = (t: ColumnTable, idx: ArrayLike<number>): ColumnTable => {
  const n = idx.length
  return {
    rows: n,
    columns: t.columns.map((c): TableColumn => {
      if (isNumeric(c)) {
        const out =
          n >= SHARED_COLUMN_ROWS
            ? new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT))
            : new Float64Array(n)
        const v = c.values
        for (let k = 0; k < n; k++) out[k] = v[idx[k]!]!
        return { name: c.name, dtype: c.dtype, values: out }
      }
      const out = new Int32Array(n)
      const v = c.codes
      for (let k = 0; k < n; k++) out[k] = v[idx[k]!]!
      return { name: c.name, dtype: c.dtype, codes: out, dictionary: c.dictionary }
    })
  }
}

/** Keeps the named columns, in the order given (absent names are skipped). */
export const selectColumns = (t: ColumnTable, names: ReadonlyArray<string>): ColumnTable => {
  const byName = new Map(t.columns.map((c) => [c.name, c]))
  return { rows: t.rows, columns: names.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : [])) }
}

/** Count of missing cells of a column (NaN or code -1). */
export const missingCount = (c: TableColumn): number => {
  let m = 0
  if (isNumeric(c)) {
    const v = c.values
    for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) m++
  } else {
    const v = c.codes
    for (let i = 0; i < v.length; i++) if (v[i]! < 0) m++
  }
  return m
}

/** The cell as text, as an export writes it: "" for missing, numbers in JavaScript's shortest round-trip form. */
export const cellText = (c: TableColumn, i: number): string => {
  if (isNumeric(c)) {
    const v = c.values[i]!
    return Number.isNaN(v) ? "" : Object.is(v, -0) ? "-0" : String(v)
  }
  const k = c.codes[i]!
  return k < 0 ? "" : c.dictionary[k]!
}

const quoteCsv = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

/**
 * The table as CSV text in pieces of about `rowsPerChunk` rows (header first, RFC 4180 quoting, LF
 * line ends), so an export of a million rows never builds one giant string.
 */
export function* tableToCsvChunks(t: ColumnTable, rowsPerChunk = 16384): Generator<string> {
  const dicts = t.columns.map((c) => (isNumeric(c) ? null : c.dictionary.map(quoteCsv)))
  yield t.columns.map((c) => quoteCsv(c.name)).join(",") + "\n"
  for (let start = 0; start < t.rows; start += rowsPerChunk) {
    const end = Math.min(t.rows, start + rowsPerChunk)
    const parts: string[] = []
    for (let i = start; i < end; i++) {
      let line = ""
      for (let j = 0; j < t.columns.length; j++) {
        const c = t.columns[j]!
        if (j > 0) line += ","
        if (isNumeric(c)) line += cellText(c, i)
        else {
          const k = c.codes[i]!
          if (k >= 0) line += dicts[j]![k]!
        }
      }
      parts.push(line)
    }
    yield parts.join("\n") + "\n"
  }
}
