import { Effect } from "effect"
import type { DatasetSpec } from "../domain/dataset.js"
import { ContractViolation } from "../domain/errors.js"
import type { Frame } from "../domain/table.js"
import type { Violation } from "../domain/errors.js"
import { readCsvBytes } from "../domain/csvReader.js"
import { readOptionsFor, validateColumns } from "../domain/contract.js"
import { BLANK_ONLY } from "../domain/missing.js"
import { Storage } from "../services/Storage.js"
import { cachedSnapshot, rememberSnapshot } from "./tableCache.js"
import { decodeIndices, decodeTable } from "../domain/arrowIpc.js"
import { type ColumnTable, isNumeric, selectColumns, tableColumn, takeTableRows } from "../domain/columnTable.js"

const columnMissing = (c: string) => ({
  column: c,
  rule: "column_present",
  observed: "missing from the header",
  expected: `a column named "${c}"`,
  rows: [1]
})

/**
 * Reads a split part from the workspace as typed columns: an index file (`<part>.arrow`, rows of the
 * dataset's Arrow snapshot) or, for CSV files (drift holdouts, workspaces from before the snapshot
 * was Arrow), through readFrame's CSV path.
 */
export const readTable = Effect.fn("data.readTable")(function* (
  key: string,
  spec: DatasetSpec,
  /** The columns wanted, in this order, or every column of the snapshot ("all"). */
  columns: ReadonlyArray<string> | "all"
) {
  const storage = yield* Storage
  const corrupt = (message: string) =>
    new ContractViolation({
      dataset: spec.name,
      file: storage.locate(key),
      violations: [
        { column: null, rule: "arrow_file", observed: message, expected: "a driftgate Arrow file", rows: [] }
      ]
    })
  const index = yield* storage.read(key)
  const decoded = yield* Effect.try({ try: () => decodeIndices(index), catch: (e) => corrupt(String(e)) })
  const snapshotKey = decoded.metadata.snapshot
  if (snapshotKey === undefined) return yield* Effect.fail(corrupt("no `snapshot` in the index file's metadata"))
  const location = storage.locate(snapshotKey)
  let snapshot = cachedSnapshot(storage, location)
  if (snapshot === undefined) {
    const bytes = yield* storage.read(snapshotKey)
    snapshot = (yield* Effect.try({ try: () => decodeTable(bytes), catch: (e) => corrupt(String(e)) })).table
    rememberSnapshot(storage, location, snapshot)
  }
  if (columns === "all") return takeTableRows(snapshot, decoded.rows)
  const absent = columns.filter((c) => tableColumn(snapshot, c) === undefined)
  if (absent.length > 0) {
    return yield* Effect.fail(
      new ContractViolation({ dataset: spec.name, file: storage.locate(key), violations: absent.map(columnMissing) })
    )
  }
  return takeTableRows(selectColumns(snapshot, columns), decoded.rows)
})

/** A ColumnTable as a Frame: string cells point into the dictionary (no string is made per cell). */
export const tableToFrame = (t: ColumnTable): Frame => ({
  rows: t.rows,
  columns: t.columns.map((c) => {
    if (isNumeric(c)) return c
    const values: Array<string | null> = new Array(t.rows)
    for (let i = 0; i < t.rows; i++) {
      const k = c.codes[i]!
      values[i] = k < 0 ? null : c.dictionary[k]!
    }
    return { name: c.name, dtype: c.dtype, values }
  })
})

/** Reads a split part (or a CSV in the workspace) as a typed frame of the given columns (dtypes from the spec). */
export const readFrame = Effect.fn("data.readFrame")(function* (
  key: string,
  spec: DatasetSpec,
  columns: ReadonlyArray<string>
) {
  if (key.endsWith(".arrow")) return tableToFrame(yield* readTable(key, spec, columns))
  const storage = yield* Storage
  const bytes = yield* storage.read(key)
  // driftgate wrote this file (a drift holdout, an old split): every missing value is an empty cell
  const read = readCsvBytes(bytes, { ...readOptionsFor(spec, BLANK_ONLY), onlyColumns: new Set(columns) })
  const fail = (violations: ReadonlyArray<Violation>) =>
    Effect.fail(new ContractViolation({ dataset: spec.name, file: storage.locate(key), violations }))
  const structural = read.violations.filter((v) => v.rule !== "dtype")
  if (structural.length > 0) return yield* fail(structural)
  const missing = columns.filter((c) => !read.header.includes(c))
  const present = columns.filter((c) => read.header.includes(c))
  // the contract's dtype rules only (int, bool): row bounds, ranges and null fractions were checked when it was written
  const checked = validateColumns(
    read,
    { ...spec, features: present.filter((c) => c !== spec.target), constraints: { min_rows: 0 } },
    {
      requireTarget: present.includes(spec.target)
    }
  )
  const dtype = checked.violations.filter((v) => v.rule === "dtype")
  // every problem at once: the absent columns and the present ones of the wrong type
  if (missing.length > 0 || dtype.length > 0) return yield* fail([...missing.map(columnMissing), ...dtype])
  return tableToFrame(selectColumns(checked.table, columns))
})

/** Class labels in class-index order: the declared label_classes, else the sorted observed labels. */
export const classesOf = (spec: DatasetSpec, observed: ReadonlyArray<string>): ReadonlyArray<string> =>
  spec.constraints.label_classes !== undefined ? [...spec.constraints.label_classes] : [...new Set(observed)].sort()

/** The target column as float64: class indices for classification, values for regression. */
export const targetVector = (frame: Frame, target: string, classes: ReadonlyArray<string> | null): Float64Array => {
  const col = frame.columns.find((c) => c.name === target)!
  const n = frame.rows
  const y = new Float64Array(n)
  if (classes === null) {
    if (col.dtype === "float" || col.dtype === "int") y.set(col.values)
    return y
  }
  const index = new Map(classes.map((c, i) => [c, i]))
  for (let i = 0; i < n; i++) {
    const v: string | null | undefined =
      col.dtype === "float" || col.dtype === "int" ? String(col.values[i]) : (col.values[i] as string | null)
    y[i] = v === null || v === undefined ? NaN : (index.get(v) ?? NaN)
  }
  return y
}

export const featureFrame = (frame: Frame, features: ReadonlyArray<string>): Frame => ({
  rows: frame.rows,
  columns: features.map((f) => frame.columns.find((c) => c.name === f)!)
})
