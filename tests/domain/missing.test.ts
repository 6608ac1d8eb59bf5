import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { validateTable } from "../../src/domain/contract.js"
import { decodeDatasetSpec, type DatasetSpec } from "../../src/domain/dataset.js"
import { describeError, exitCodeOf } from "../../src/domain/describe.js"
import { BLANK_ONLY, isMissing, missingComment, missingRule, recordWithMissing } from "../../src/domain/missing.js"
import { parseCsv } from "../../src/domain/table.js"

const specOf = (extra: Record<string, unknown> = {}, constraints: Record<string, unknown> = {}) => ({
  name: "pets",
  task_type: "classification",
  features: ["weight", "colour"],
  target: "kind",
  schema: { weight: "float", colour: "string", kind: "string" },
  constraints: { min_rows: 1, ...constraints },
  ...extra
})

const parsed = (text: string, spec: DatasetSpec) => {
  const p = parseCsv(text, missingRule(spec))
  if (p._tag !== "ok") throw new Error(JSON.stringify(p.violations))
  return p
}

describe("the missing-value rule", () => {
  it("blank cells are missing under every rule, also with keep_default_na: false", () => {
    for (const rule of [BLANK_ONLY, missingRule(), missingRule({ keep_default_na: false, na_values: ["?"] })]) {
      expect(isMissing(rule, "")).toBe(true)
      expect(isMissing(rule, "  ")).toBe(true)
    }
    expect(isMissing(BLANK_ONLY, "NA")).toBe(false)
    expect(isMissing(missingRule({ keep_default_na: false }), "NA")).toBe(false)
    expect(isMissing(missingRule({ keep_default_na: false, na_values: ["NA"] }), "NA")).toBe(true)
  })

  it("a logged record's string tokens read as missing under the dataset's rule (the serving log reader)", () => {
    const rec = { colour: "NA", kind: "cat", weight: 2, note: "" }
    expect(recordWithMissing(rec, missingRule())).toEqual({ colour: null, kind: "cat", weight: 2, note: null })
    expect(recordWithMissing(rec, missingRule({ keep_default_na: false }))).toEqual({ ...rec, note: null })
    const clean = { colour: "red" }
    expect(recordWithMissing(clean, missingRule())).toBe(clean)
  })

  it("parseCsv without a rule keeps its old reading: only blank cells are null", () => {
    const p = parseCsv("a,b\nNA,1\n,NaN\n")
    expect(p._tag === "ok" && p.table.rows).toEqual([
      ["NA", "1"],
      [null, "NaN"]
    ])
  })

  it("tallies each token read as missing per column, with its lines, and says so in one comment", () => {
    const p = parseCsv("x,y,z\nNA,1,a\n2,,b\nNA,NULL,c\n", missingRule())
    if (p._tag !== "ok") throw new Error("parse failed")
    expect(p.missing[0]!.get("NA")).toEqual({ count: 2, rows: [2, 4] })
    expect(p.missing[1]!.get("")).toEqual({ count: 1, rows: [3] })
    expect(p.missing[1]!.get("NULL")).toEqual({ count: 1, rows: [4] })
    expect(p.missing[2]!.size).toBe(0)
    const comment = missingComment(p.table.header, p.missing)
    expect(comment).toMatch(/^# Read as missing/)
    expect(comment).toContain('"NA" ×2')
    expect(comment).toContain('"NULL" ×1')
    expect(comment).toContain("empty ×1")
    expect(comment).toContain("= 4 cell(s); per column: x 2, y 2.")
  })
})

describe("dataset.yaml na_values / keep_default_na", () => {
  it("decodes both keys", () => {
    const r = decodeDatasetSpec(specOf({ na_values: ["?"], keep_default_na: false }), "dataset.yaml")
    expect(Either.isRight(r) && [r.right.na_values, r.right.keep_default_na]).toEqual([["?"], false])
  })

  it("a token in na_values that is also a label class is a config error (exit 64) naming both", () => {
    const r = decodeDatasetSpec(
      specOf({ na_values: ["unknown"] }, { label_classes: ["cat", "dog", "unknown"] }),
      "dataset.yaml"
    )
    if (Either.isRight(r)) throw new Error("expected a ConfigError")
    expect(r.left._tag).toBe("ConfigError")
    expect(r.left.message).toContain('"unknown"')
    expect(r.left.message).toContain('target "kind"')
    expect(exitCodeOf(r.left)).toBe(64)
    expect(describeError(r.left)).toContain("na_values")
  })

  it("a label class that is one of pandas' default tokens points at keep_default_na", () => {
    const r = decodeDatasetSpec(specOf({}, { label_classes: ["NA", "EU"] }), "dataset.yaml")
    expect(Either.isLeft(r) && r.left.key).toBe("keep_default_na")
    const ok = decodeDatasetSpec(specOf({ keep_default_na: false }, { label_classes: ["NA", "EU"] }), "dataset.yaml")
    expect(Either.isRight(ok)).toBe(true)
  })

  it("a declared token found among the target's cells is a violation (exit 4) naming token, target and lines", () => {
    const spec = Either.getOrThrow(decodeDatasetSpec(specOf({ na_values: ["?"] }), "dataset.yaml"))
    const p = parsed("weight,colour,kind\n1.5,red,cat\n?,blue,dog\n2,?,?\n3,red,cat\n", spec)
    const v = validateTable(p.table, spec, { missing: p.missing }).violations
    const conflict = v.find((x) => x.rule === "na_values_label")
    expect(conflict?.column).toBe("kind")
    expect(conflict?.observed).toContain('"?"')
    expect(conflict?.observed).toContain('target "kind"')
    expect(conflict?.rows).toEqual([4])
  })

  it("a numeric column whose only non-numbers are missing tokens validates as float; null fractions count them", () => {
    const spec = Either.getOrThrow(decodeDatasetSpec(specOf({}, { max_null_fraction: 0.2 }), "dataset.yaml"))
    const p = parsed("weight,colour,kind\n1.5,red,cat\nNA,blue,dog\n#N/A,NULL,dog\n3,red,cat\n", spec)
    const r = validateTable(p.table, spec, { missing: p.missing })
    expect(r.summary.nullFractions).toEqual({ weight: 0.5, colour: 0.25, kind: 0 })
    const over = r.violations.find((x) => x.column === "weight")
    expect(over?.rule).toBe("max_null_fraction")
    expect(over?.observed).toContain('"NA" ×1')
    expect(over?.observed).toContain('"#N/A" ×1')
    expect(r.violations.filter((x) => x.rule === "dtype")).toEqual([])
  })
})
