import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { validateTable } from "../../src/domain/contract.js"
import type { DatasetSpec } from "../../src/domain/dataset.js"
import { parseCsv, writeCsv } from "../../src/domain/table.js"

const ok = (text: string) => {
  const r = parseCsv(text)
  if (r._tag !== "ok") throw new Error(JSON.stringify(r.violations))
  return r.table
}

describe("CSV parsing", () => {
  it("handles BOM, CRLF, quoted commas and embedded newlines", () => {
    const t = ok('\uFEFFa,b,c\r\n1,"x, y",3\r\n4,"line1\r\nline2",6\r\n')
    expect(t.header).toEqual(["a", "b", "c"])
    expect(t.rows).toEqual([
      ["1", "x, y", "3"],
      ["4", "line1\r\nline2", "6"]
    ])
    expect(t.lines).toEqual([2, 3])
  })

  it("reads empty cells as null", () => {
    expect(ok("a,b\n1,\n,2\n").rows).toEqual([
      ["1", null],
      [null, "2"]
    ])
  })

  it("collects rows with the wrong number of cells with their line numbers", () => {
    const r = parseCsv("a,b,c\n1,2,3\n1,2\n1,2,3\n1,2,3,4\n")
    expect(r._tag).toBe("invalid")
    if (r._tag === "invalid") {
      expect(r.violations).toHaveLength(1)
      expect(r.violations[0]).toMatchObject({ rule: "column_count", rows: [3, 5] })
    }
  })

  it("reports empty files, header-only files and duplicate headers", () => {
    const rule = (text: string) => {
      const r = parseCsv(text)
      return r._tag === "invalid" ? r.violations.map((v) => v.rule) : []
    }
    expect(rule("")).toEqual(["non_empty"])
    expect(rule("\uFEFF\n")).toEqual(["non_empty"])
    expect(rule("a,b\n")).toEqual(["non_empty"])
    expect(rule("a,a\n1,2\n")).toEqual(["duplicate_header"])
  })

  it("round-trips any table through writeCsv and parseCsv", () => {
    const cell = fc.oneof(fc.string(), fc.constantFrom(",", '"', "\n", "\r\n", " x ", "é,ü"))
    // One column is excluded: there an empty cell is an empty line, which CSV cannot tell from a blank line.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        (cols, rows) => {
          const header = Array.from({ length: cols }, (_, i) => `c${i}`)
          const body = rows.map((r) => r.slice(0, cols).map((c) => (c.trim() === "" ? null : c)))
          const t = ok(writeCsv(header, body))
          expect(t.rows).toEqual(body)
        }
      )
    )
  })
})

const spec: DatasetSpec = {
  name: "t",
  task_type: "classification",
  features: ["x", "n"],
  target: "y",
  schema: { x: "float", n: "int", y: "string" },
  constraints: { min_rows: 3, max_null_fraction: 0.25, label_classes: ["a", "b"], ranges: { x: { min: 0, max: 10 } } }
}

describe("data contract", () => {
  it("passes clean data and records null fractions and labels", () => {
    const r = validateTable(ok("x,n,y\n1.5,1,a\n2,2,b\n3e0,3.0,a\n,4,b\n"), spec)
    expect(r.violations).toEqual([])
    expect(r.summary.labels).toEqual({ a: 2, b: 2 })
    expect(r.summary.nullFractions.x).toBe(0.25)
  })

  it("reports each rule with its column, observed and expected values and rows", () => {
    const r = validateTable(ok("x,n,y\n11,1,a\n,2.5,c\n,3,\ninf,4,b\n"), spec)
    const byRule = Object.fromEntries(r.violations.map((v) => [`${v.column}:${v.rule}`, v]))
    expect(Object.keys(byRule).sort()).toEqual(
      ["n:dtype", "x:dtype", "x:max_null_fraction", "x:range", "y:label_classes", "y:target_not_null"].sort()
    )
    expect(byRule["x:range"]!.rows).toEqual([2])
    expect(byRule["n:dtype"]!.rows).toEqual([3])
    expect(byRule["x:dtype"]!.observed).toContain('"inf"')
    expect(byRule["y:label_classes"]!.observed).toContain("c")
    expect(byRule["x:max_null_fraction"]!.rows).toEqual([3, 4])
  })

  it("reports too few rows and missing columns together", () => {
    const r = validateTable(ok("x,y\n1,a\n"), spec)
    expect(r.violations.map((v) => `${v.column}:${v.rule}`).sort()).toEqual(
      ["n:column_present", "null:min_rows", "y:label_classes"].sort()
    )
  })
})
