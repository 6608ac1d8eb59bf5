import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { inferSchema } from "../../src/domain/contract.js"
import { missingRule } from "../../src/domain/missing.js"
import { parseCsv, toFrame } from "../../src/domain/table.js"

// A spreadsheet-style export of the shipped penguins CSV (#N/A, "", NULL, padded numbers, TRUE/FALSE),
// made by tests/fixtures/pandas/make_messy_fixture.py; the expectations are what pandas read from it.
const dir = path.resolve(__dirname, "../fixtures/pandas")
const ref = JSON.parse(fs.readFileSync(path.join(dir, "messy_reference.json"), "utf8")) as {
  rows: number
  dtypes: Record<string, "float" | "int" | "string" | "bool">
  missing: Record<string, number>
  sums: Record<string, number>
  is_male_true: number
}

describe("a spreadsheet export reads as pandas reads it", () => {
  const parsed = parseCsv(fs.readFileSync(path.join(dir, "messy/data.csv"), "utf8"), missingRule())
  if (parsed._tag !== "ok") throw new Error(JSON.stringify(parsed.violations))
  const { table } = parsed
  const schema = inferSchema(table)

  it("infers pandas' dtypes", () => {
    expect(table.rows.length).toBe(ref.rows)
    expect(schema).toEqual(ref.dtypes)
  })

  it("counts pandas' missing cells per column", () => {
    const missing = Object.fromEntries(table.header.map((h, j) => [h, table.rows.filter((r) => r[j] === null).length]))
    expect(missing).toEqual(ref.missing)
  })

  it("reads the padded numbers and the booleans to pandas' values", () => {
    const { frame, violations } = toFrame(table, schema, table.header)
    expect(violations).toEqual([])
    for (const [name, sum] of Object.entries(ref.sums)) {
      const col = frame.columns.find((c) => c.name === name)!
      let s = 0
      for (const v of col.values as Float64Array) if (!Number.isNaN(v)) s += v
      expect(s, name).toBeCloseTo(sum, 6)
    }
    const isMale = frame.columns.find((c) => c.name === "is_male")!.values as ReadonlyArray<string | null>
    expect(isMale.filter((v) => v === "true").length).toBe(ref.is_male_true)
  })
})
