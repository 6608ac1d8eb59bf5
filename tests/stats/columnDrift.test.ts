import { describe, expect, it } from "vitest"
import { columnDrift, defaultTest, severityOf } from "../../src/stats/columnDrift.js"
import {
  buildProfile,
  profileCategoricalColumn,
  profileNumericColumn,
  type ColumnProfile
} from "../../src/stats/profile.js"
import { readDataset, selectRows } from "./csvData.js"
import { expectP, expectRel, ref } from "./scipyReference.js"

const masks: Record<string, (i: number) => boolean> = {
  even_odd: (i) => i % 2 === 0,
  mod3: (i) => i % 3 !== 0,
  first100: (i) => i < 100,
  first12000: (i) => i < 12000
}

describe("Evidently's default test per column, end to end on data/raw against SciPy", () => {
  for (const d of ref.datasets) {
    it(`${d.dataset} (${d.split})`, () => {
      const t = readDataset(d.dataset)
      const refCols = selectRows(t, masks[d.split])
      const curCols = selectRows(t, (i) => !masks[d.split](i))
      // maxSample above the row count so the profile holds every value and KS/Wasserstein are exact
      const profile = buildProfile(refCols, { maxSample: 50_000 })
      for (const c of d.columns) {
        const col = profile.columns.find((p) => p.name === c.column) as ColumnProfile
        const r = columnDrift(col, curCols.get(c.column)!)
        expect(r.test, c.column).toBe(c.test)
        expectRel(r.statistic!, c.statistic, 1e-12, 1e-300, `${c.column} statistic`)
        if (c.pvalue === null) expect(r.pValue).toBeNull()
        else expectP(r.pValue!, c.pvalue, `${c.column} p`)
        const expectedDrift = c.pvalue !== null ? c.pvalue < r.threshold : c.statistic >= r.threshold
        expect(r.drifted, c.column).toBe(expectedDrift)
      }
    })
  }
})

describe("test selection rules", () => {
  it("follows Evidently: size 1000 and 5 / 2 distinct values", () => {
    expect(defaultTest("numeric", 1000, 6)).toBe("ks")
    expect(defaultTest("numeric", 1000, 5)).toBe("chisquare")
    expect(defaultTest("numeric", 1000, 2)).toBe("z")
    expect(defaultTest("categorical", 1000, 40)).toBe("chisquare")
    expect(defaultTest("categorical", 1000, 2)).toBe("z")
    expect(defaultTest("categorical", 1000, 1)).toBe("z")
    expect(defaultTest("numeric", 1001, 6)).toBe("wasserstein")
    expect(defaultTest("numeric", 1001, 5)).toBe("jensenshannon")
    expect(defaultTest("categorical", 1001, 40)).toBe("jensenshannon")
    expect(defaultTest("categorical", 5000, 2)).toBe("jensenshannon")
  })

  it("counts distinct values over reference ∪ current", () => {
    // reference has 4 values, current adds 2 more: 6 > 5 -> KS
    const refCol = profileNumericColumn(
      "x",
      Float64Array.from({ length: 100 }, (_, i) => i % 4)
    )
    const r = columnDrift(
      refCol,
      Float64Array.from({ length: 50 }, (_, i) => i % 6)
    )
    expect(r.uniqueValues).toBe(6)
    expect(r.test).toBe("ks")
    const s = columnDrift(
      refCol,
      Float64Array.from({ length: 50 }, (_, i) => i % 3)
    )
    expect(s.test).toBe("chisquare")
    expect(s.kind).toBe("numeric")
  })

  it("binary columns use the Z-test and report kind binary", () => {
    const refCol = profileCategoricalColumn(
      "flag",
      Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? "yes" : "no"))
    )
    const r = columnDrift(
      refCol,
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? "yes" : "no"))
    )
    expect(r.kind).toBe("binary")
    expect(r.test).toBe("z")
    expect(r.pValue).not.toBeNull()
  })

  it("honours overrides of test and threshold, and refuses numeric tests on strings", () => {
    const refCol = profileNumericColumn(
      "x",
      Float64Array.from({ length: 300 }, (_, i) => Math.sin(i) * 10)
    )
    const cur = Float64Array.from({ length: 300 }, (_, i) => Math.sin(i + 0.5) * 10 + 1)
    const w = columnDrift(refCol, cur, { test: "wasserstein", threshold: 0.05 })
    expect(w.test).toBe("wasserstein")
    expect(w.threshold).toBe(0.05)
    expect(w.pValue).toBeNull()
    const psi = columnDrift(refCol, cur, { test: "psi" })
    expect(psi.threshold).toBe(0.1)
    const js = columnDrift(refCol, cur, { test: "jensenshannon", threshold: 0.2 })
    expect(js.drifted).toBe(js.statistic! >= 0.2)
    const cat = profileCategoricalColumn("c", ["a", "b", "a", "c"])
    expect(() => columnDrift(cat, ["a", "b", "c", "a"], { test: "ks" })).toThrow(
      /categorical, so it cannot use the ks test/
    )
    expect(() => columnDrift(refCol, ["a", "b"])).toThrow(/holds strings/)
  })

  it("excludes and counts nulls in the current batch", () => {
    const refCol = profileNumericColumn(
      "x",
      Float64Array.from({ length: 100 }, (_, i) => i)
    )
    const r = columnDrift(refCol, Float64Array.from([1, Number.NaN, 3, 50, Number.NaN, 70, 20, 30, 40, 60, 90, 99]))
    expect(r.currentNulls).toBe(2)
    expect(r.currentRows).toBe(10)
    expect(r.warnings.some((w) => w.includes("fewer than 30"))).toBe(true)
  })

  it("gives plotting summaries: histogram for numeric, counts for categories", () => {
    const refCol = profileNumericColumn(
      "x",
      Float64Array.from({ length: 500 }, (_, i) => (i * 7919) % 1000)
    )
    const r = columnDrift(
      refCol,
      Float64Array.from({ length: 400 }, (_, i) => ((i * 104729) % 1000) + 100)
    )
    expect(r.summary.type).toBe("histogram")
    if (r.summary.type === "histogram") {
      expect(r.summary.edges.length).toBe(r.summary.reference.length + 1)
      expect(r.summary.reference.reduce((a, b) => a + b, 0)).toBe(500)
      expect(r.summary.current.reduce((a, b) => a + b, 0)).toBe(400)
    }
    const cat = profileCategoricalColumn("c", ["a", "b", "a", "c", null])
    const s = columnDrift(cat, ["a", "d", null, null])
    expect(s.summary).toEqual({
      type: "categories",
      categories: ["a", "d", "b", "c"],
      reference: [2, 0, 1, 1],
      current: [1, 1, 0, 0],
      otherReference: 0,
      otherCurrent: 0
    })
    expect(s.currentNulls).toBe(2)
  })
})

describe("severity", () => {
  it("by p-value and by distance, none when not drifted", () => {
    expect(severityOf("ks", true, 0.3, 0.0005)).toBe("high")
    expect(severityOf("ks", true, 0.3, 0.005)).toBe("medium")
    expect(severityOf("chisquare", true, 10, 0.04)).toBe("low")
    expect(severityOf("z", false, 1, 0.2)).toBe("none")
    expect(severityOf("wasserstein", true, 0.3, null)).toBe("high")
    expect(severityOf("jensenshannon", true, 0.2, null)).toBe("medium")
    expect(severityOf("psi", true, 0.11, null)).toBe("low")
    expect(
      severityOf("psi", true, 0.11, null, {
        pValue: { medium: 0.01, high: 0.001 },
        distance: { medium: 0.1, high: 0.11 }
      })
    ).toBe("high")
  })
})
