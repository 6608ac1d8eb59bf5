import { describe, expect, it } from "vitest"
import { rng, shuffleInPlace } from "../../src/domain/random.js"
import { BatchTooSmallError, datasetDrift, shareSeverity } from "../../src/stats/datasetDrift.js"
import { buildProfile } from "../../src/stats/profile.js"
import { readDataset, selectRows, type Table } from "./csvData.js"

const table = readDataset("breast_cancer")

const randomHalves = (t: Table, seed: number) => {
  const order = shuffleInPlace(
    Array.from({ length: t.rows }, (_, i) => i),
    rng(seed)
  )
  const inA = new Uint8Array(t.rows)
  for (let k = 0; k < Math.floor(t.rows / 2); k++) inA[order[k]] = 1
  return { a: selectRows(t, (i) => inA[i] === 1), b: selectRows(t, (i) => inA[i] === 0) }
}

const std = (x: Float64Array) => {
  const m = x.reduce((s, v) => s + v, 0) / x.length
  return Math.sqrt(x.reduce((s, v) => s + (v - m) * (v - m), 0) / x.length)
}

describe("dataset drift on breast_cancer", () => {
  it("no dataset drift between two random halves (false-positive check over seeds)", () => {
    let driftedColumns = 0
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { a, b } = randomHalves(table, seed)
      const r = datasetDrift(buildProfile(a), b)
      expect(r.datasetDrift, `seed ${seed}`).toBe(false)
      expect(r.benjaminiHochberg.datasetDrift).toBe(false)
      expect(r.numberOfColumns).toBe(31)
      expect(r.columns.map((c) => c.test)).toEqual([...Array(30).fill("ks"), "z"])
      driftedColumns += r.numberOfDriftedColumns
      expect(r.benjaminiHochberg.numberOfDriftedColumns).toBeLessThanOrEqual(r.numberOfDriftedColumns)
    }
    // at alpha = 0.05 about 5% of 31 columns x 8 splits = 12 false alarms are expected; far below half
    expect(driftedColumns).toBeLessThan(40)
  })

  it("reports exactly the shifted and scaled columns when the current batch is a modified copy", () => {
    const { a } = randomHalves(table, 11)
    const profile = buildProfile(a)
    const modified = new Map(a)
    const changes: Record<string, (x: Float64Array) => Float64Array> = {
      mean_radius: (x) => x.map((v) => v + 0.8 * std(x)),
      worst_area: (x) => x.map((v) => v * 1.6),
      texture_error: (x) => x.map((v) => v - 0.7 * std(x)),
      mean_symmetry: (x) => x.map((v) => v * 0.5)
    }
    for (const [name, f] of Object.entries(changes)) modified.set(name, f(a.get(name) as Float64Array))
    const r = datasetDrift(profile, modified)
    const drifted = r.columns
      .filter((c) => c.drifted)
      .map((c) => c.column)
      .sort()
    expect(drifted).toEqual(Object.keys(changes).sort())
    expect(
      r.columns
        .filter((c) => c.driftedAdjusted)
        .map((c) => c.column)
        .sort()
    ).toEqual(Object.keys(changes).sort())
    for (const c of r.columns.filter((c) => c.drifted)) expect(c.severity).toBe("high")
    expect(r.shareOfDriftedColumns).toBeCloseTo(4 / 31, 15)
    expect(r.datasetDrift).toBe(false)
    expect(r.severity).toBe("low")
    // with drift_share 0.1 the same batch is a dataset drift
    expect(datasetDrift(profile, modified, { driftShare: 0.1 }).datasetDrift).toBe(true)
  })

  it("flags dataset drift when most columns move, on the other half", () => {
    const { a, b } = randomHalves(table, 12)
    const shifted = new Map(b)
    for (const name of table.names.slice(0, 20)) {
      const x = b.get(name) as Float64Array
      shifted.set(
        name,
        x.map((v) => v + std(x))
      )
    }
    const r = datasetDrift(buildProfile(a), shifted)
    expect(r.datasetDrift).toBe(true)
    expect(r.severity).toBe("high")
    expect(r.benjaminiHochberg.datasetDrift).toBe(true)
    for (const name of table.names.slice(0, 20)) expect(r.columns.find((c) => c.column === name)!.drifted).toBe(true)
  })

  it("applies per-column overrides", () => {
    const { a, b } = randomHalves(table, 13)
    const r = datasetDrift(buildProfile(a), b, {
      columns: { mean_radius: { test: "wasserstein", threshold: 0.5 }, diagnosis: { test: "jensenshannon" } }
    })
    const mr = r.columns.find((c) => c.column === "mean_radius")!
    expect(mr.test).toBe("wasserstein")
    expect(mr.threshold).toBe(0.5)
    expect(mr.adjustedPValue).toBeNull()
    const dg = r.columns.find((c) => c.column === "diagnosis")!
    expect(dg.test).toBe("jensenshannon")
    expect(dg.threshold).toBe(0.1)
  })
})

describe("batch size rules", () => {
  const { a, b } = randomHalves(table, 21)
  const profile = buildProfile(a)
  const head = (n: number) => selectRows({ ...table, rows: b.get("mean_radius")!.length, columns: b }, (i) => i < n)

  it("refuses batches under min_batch_size with one sentence", () => {
    expect(() => datasetDrift(profile, head(9))).toThrow(BatchTooSmallError)
    expect(() => datasetDrift(profile, head(9))).toThrow(
      "The current batch has 9 rows, fewer than min_batch_size 10, so drift was not computed."
    )
    expect(() => datasetDrift(profile, head(4), { minBatchSize: 5 })).toThrow(/4 rows, fewer than min_batch_size 5/)
  })

  it("warns under 30 rows but still answers", () => {
    const r = datasetDrift(profile, head(12))
    expect(r.rows).toBe(12)
    expect(r.warnings[0]).toBe("The current batch has 12 rows (fewer than 30), so the drift tests have little power.")
    expect(datasetDrift(profile, head(60)).warnings).toEqual([])
  })

  it("names a missing column", () => {
    const partial = head(40)
    partial.delete("worst_area")
    expect(() => datasetDrift(profile, partial)).toThrow(
      'The current batch has no column "worst_area", which the reference profile has.'
    )
  })
})

describe("share severity", () => {
  it("none / low / medium / high with configurable cut-offs", () => {
    expect(shareSeverity(0, 0)).toBe("none")
    expect(shareSeverity(1, 0.25)).toBe("low")
    expect(shareSeverity(2, 0.5)).toBe("medium")
    expect(shareSeverity(3, 0.51)).toBe("high")
    expect(shareSeverity(3, 0.3, { low: 0.3, medium: 0.4 })).toBe("low")
  })
})

describe("missing values are drift", () => {
  const r = rng(11)
  const ref = {
    a: Float64Array.from({ length: 400 }, () => r.normal()),
    b: Float64Array.from({ length: 400 }, () => r.normal())
  }
  const profile = buildProfile(ref, { seed: 1 })
  const cur = () => ({
    a: Float64Array.from({ length: 200 }, () => r.normal()),
    b: Float64Array.from({ length: 200 }, () => r.normal())
  })

  it("a feature that is empty in the whole batch is drifted (high), not left out", () => {
    const c = cur()
    c.a.fill(NaN)
    const d = datasetDrift(profile, c)
    const a = d.columns.find((x) => x.column === "a")!
    expect(a.drifted).toBe(true)
    expect(a.severity).toBe("high")
    expect(a.driftedAdjusted).toBe(true)
    expect(d.numberOfColumns).toBe(2)
    expect(d.numberOfDriftedColumns).toBe(1)
    expect(d.columns.find((x) => x.column === "b")!.drifted).toBe(false)
  })

  it("a rise in the share of empty cells beyond 0.1 counts; a small one does not", () => {
    const c = cur()
    for (let i = 0; i < 60; i++) c.a[i] = NaN
    for (let i = 0; i < 10; i++) c.b[i] = NaN
    const d = datasetDrift(profile, c)
    expect(d.columns.find((x) => x.column === "a")!.drifted).toBe(true)
    expect(d.columns.find((x) => x.column === "a")!.severity).toBe("medium")
    expect(d.columns.find((x) => x.column === "b")!.drifted).toBe(false)
  })
})
