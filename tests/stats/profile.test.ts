import { describe, expect, it } from "vitest"
import { ks2sampSorted, sortedFinite } from "../../src/stats/ks.js"
import {
  buildProfile,
  parseProfile,
  PROFILE_FORMAT,
  profileNumericColumn,
  sortedReference,
  type NumericColumnProfile
} from "../../src/stats/profile.js"
import { npStd } from "../../src/stats/summation.js"
import { readDataset } from "./csvData.js"

describe("reference profile", () => {
  const table = readDataset("breast_cancer")
  const profile = buildProfile(table.columns, { seed: 7 })

  it("is versioned JSON that round-trips through JSON.stringify / parse", () => {
    expect(profile.format).toBe(PROFILE_FORMAT)
    const back = parseProfile(JSON.parse(JSON.stringify(profile)))
    expect(back).toEqual(profile)
  })

  it("keeps every value sorted when n <= 10,000, with exact summaries", () => {
    const col = profile.columns.find((c) => c.name === "mean_radius") as NumericColumnProfile
    const raw = table.columns.get("mean_radius") as Float64Array
    expect(col.kind).toBe("numeric")
    expect(col.n).toBe(569)
    expect(col.sampled).toBe(false)
    expect(col.sorted).toEqual(Array.from(sortedFinite(raw)))
    expect(col.std).toBe(npStd(raw))
    expect(col.min).toBe(6.981)
    expect(col.max).toBe(28.11)
    expect(col.distinct).toBeNull()
  })

  it("stores category counts for string columns", () => {
    const diag = profile.columns.find((c) => c.name === "diagnosis")
    expect(diag).toEqual({
      name: "diagnosis",
      kind: "categorical",
      n: 569,
      nulls: 0,
      unique: 2,
      categories: [
        ["benign", 357],
        ["malignant", 212]
      ]
    })
  })

  it("subsamples large columns with a seed: deterministic, sorted, exact n/mean/std", () => {
    const big = readDataset("california_housing").columns.get("MedInc") as Float64Array
    const a = profileNumericColumn("MedInc", big, { seed: 3 })
    const b = profileNumericColumn("MedInc", big, { seed: 3 })
    const c = profileNumericColumn("MedInc", big, { seed: 4 })
    expect(a.sampled).toBe(true)
    expect(a.sorted.length).toBe(10_000)
    expect(a.n).toBe(20_640)
    expect(a.sorted).toEqual(b.sorted)
    expect(a.sorted).not.toEqual(c.sorted)
    for (let i = 1; i < a.sorted.length; i++) expect(a.sorted[i]).toBeGreaterThanOrEqual(a.sorted[i - 1])
    expect(a.std).toBe(npStd(big))
    // a uniform sample: KS against the full column is not significant
    expect(ks2sampSorted(sortedReference(a), sortedFinite(big)).pValue).toBeGreaterThan(0.05)
  })

  it("counts NaN and infinities as nulls and keeps exact counts for low-cardinality columns", () => {
    const p = profileNumericColumn("x", Float64Array.of(1, 2, Number.NaN, 2, Infinity, 3, -0))
    expect(p.n).toBe(5)
    expect(p.nulls).toBe(2)
    expect(p.unique).toBe(4)
    expect(p.distinct).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 1]
    ])
  })

  it("sortedReference converts once and never re-sorts", () => {
    const col = profile.columns.find((c) => c.name === "mean_area") as NumericColumnProfile
    const a = sortedReference(col)
    expect(sortedReference(col)).toBe(a)
    expect(Array.from(a)).toEqual(col.sorted)
  })

  it("rejects another format or unsorted values with one sentence", () => {
    expect(() => parseProfile({ format: "driftgate.profile/0", columns: [] })).toThrow(/reads "driftgate.profile\/1"/)
    const bad = JSON.parse(JSON.stringify(profile))
    bad.columns[0].sorted.reverse()
    expect(() => parseProfile(bad)).toThrow(/not sorted/)
  })
})
