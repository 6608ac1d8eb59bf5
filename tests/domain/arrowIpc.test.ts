import { tableFromIPC } from "apache-arrow"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import {
  decodeIndices,
  decodeTable,
  encodeColumns,
  encodeIndices,
  encodeTable,
  joinParts
} from "../../src/domain/arrowIpc.js"
import { type ColumnTable, isNumeric, type TableColumn } from "../../src/domain/columnTable.js"
import { PANDAS_NA_VALUES, readCsvBytes } from "../../src/domain/csvReader.js"

const cells = (c: TableColumn): Array<number | string | null> =>
  isNumeric(c)
    ? Array.from(c.values, (v) => (Number.isNaN(v) ? null : v))
    : Array.from(c.codes, (k) => (k < 0 ? null : c.dictionary[k]!))

const same = (a: ColumnTable, b: ColumnTable) => {
  expect(b.rows).toBe(a.rows)
  expect(b.columns.map((c) => [c.name, c.dtype])).toEqual(a.columns.map((c) => [c.name, c.dtype]))
  expect(b.columns.map(cells)).toEqual(a.columns.map(cells))
}

describe("Arrow IPC (Feather v2) encode / decode", () => {
  const messy = readCsvBytes(fs.readFileSync(path.join(__dirname, "../fixtures/csv/messy.csv")), {
    naValues: PANDAS_NA_VALUES
  })

  it("round-trips a table read from CSV: numbers bit for bit, strings, missing cells, dtypes, metadata", () => {
    const bytes = joinParts(encodeTable(messy.table, { dataset_version: "abc" }))
    const text = new TextDecoder("latin1").decode(bytes)
    expect(text.slice(0, 6)).toBe("ARROW1")
    expect(text.slice(-6)).toBe("ARROW1")
    const back = decodeTable(bytes)
    same(messy.table, back.table)
    expect(back.metadata).toEqual({ dataset_version: "abc" })
    const score = back.table.columns.find((c) => c.name === "score")!
    expect(isNumeric(score) && Object.is(score.values[2], -0)).toBe(true)
  })

  it("marks missing cells null for other readers (Float64 nulls, dictionary nulls) and keeps bool", () => {
    const t: ColumnTable = {
      rows: 4,
      columns: [
        { name: "x", dtype: "float", values: Float64Array.of(1, NaN, 3, NaN) },
        { name: "s", dtype: "string", codes: Int32Array.of(1, -1, 0, 1), dictionary: ["a", "b"] },
        { name: "f", dtype: "bool", codes: Int32Array.of(0, 1, 1, -1), dictionary: ["false", "true"] }
      ]
    }
    const bytes = joinParts(encodeTable(t))
    const arrow = tableFromIPC(bytes)
    expect(arrow.getChild("x")!.nullCount).toBe(2)
    expect(arrow.getChild("s")!.nullCount).toBe(1)
    expect(arrow.getChild("s")!.toArray()).toEqual(["b", null, "a", "b"])
    same(t, decodeTable(bytes).table)
  })

  it("stores a split as row indices and a matrix as Float64 columns", () => {
    const idx = Uint32Array.of(5, 0, 3)
    const d = decodeIndices(joinParts(encodeIndices(idx, { split: "val" })))
    expect(Array.from(d.rows)).toEqual([5, 0, 3])
    expect(d.metadata).toEqual({ split: "val" })
    const m = decodeTable(
      joinParts(
        encodeColumns([
          { name: "f=a", values: Float64Array.of(0.5, 1.5) },
          { name: "y", values: Float64Array.of(1, 0) }
        ])
      )
    )
    expect(m.table.columns.map(cells)).toEqual([
      [0.5, 1.5],
      [1, 0]
    ])
  })

  it("round-trips 600,000 rows (zero-copy Float64 in, one pass out)", () => {
    const n = 600_000
    const values = Float64Array.from({ length: n }, (_, i) => (i % 1000 === 0 ? NaN : i / 7))
    const codes = Int32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? -1 : i % 5))
    const t: ColumnTable = {
      rows: n,
      columns: [
        { name: "v", dtype: "float", values },
        { name: "k", dtype: "string", codes, dictionary: ["a", "b", "c", "d", "e"] }
      ]
    }
    const parts = encodeTable(t)
    // the Float64 column is handed to the writer as is, not copied
    expect(parts.some((p) => p.buffer === values.buffer)).toBe(true)
    const back = decodeTable(joinParts(parts)).table
    const v = back.columns[0]!
    const k = back.columns[1]!
    expect(isNumeric(v) && v.values.length).toBe(n)
    let diff = 0
    if (isNumeric(v)) for (let i = 0; i < n; i++) if (!Object.is(v.values[i], values[i])) diff++
    if (!isNumeric(k)) for (let i = 0; i < n; i++) if (k.codes[i] !== codes[i]) diff++
    expect(diff).toBe(0)
  })

  it("rejects bytes that are not Arrow IPC", () => {
    expect(() => decodeTable(new TextEncoder().encode("a,b\n1,2\n"))).toThrow(/not an Arrow IPC file/)
  })
})
