import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { finiteValues } from "../../src/stats/profile.js"

// A Float64Array column takes a typed fast path; it must keep exactly what the generic path keeps.
describe("finiteValues on a Float64Array column", () => {
  it("600,000 values with NaN and ±Infinity: the same values, order and null count as the generic path", () => {
    const r = rng(3)
    const v = new Float64Array(600_000)
    for (let i = 0; i < v.length; i++) {
      const u = r.next()
      v[i] = u < 0.01 ? NaN : u < 0.012 ? Infinity : u < 0.014 ? -Infinity : (u - 0.5) * 1e6
    }
    const fast = finiteValues(v)
    const generic = finiteValues(Array.from(v))
    expect(fast.nulls).toBe(generic.nulls)
    expect(Buffer.from(fast.values.buffer).equals(Buffer.from(generic.values.buffer))).toBe(true)
    const all = Float64Array.from({ length: 500_000 }, (_, i) => i * 0.5 - 3)
    expect(Array.from(finiteValues(all).values)).toEqual(Array.from(all))
  })
})
