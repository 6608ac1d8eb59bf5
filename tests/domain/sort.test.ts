import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sortFloat64 } from "../../src/domain/sort.js"

describe("sortFloat64 (radix) orders exactly like Float64Array.prototype.sort", () => {
  it("on arbitrary doubles, -0/+0, infinities, subnormals and ties", () => {
    const value = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, Infinity, -Infinity, 5e-324, -5e-324, 1, -1),
      fc.integer({ min: -3, max: 3 })
    )
    fc.assert(
      fc.property(fc.array(value, { minLength: 0, maxLength: 3000, size: "max" }), (xs) => {
        const a = Float64Array.from(xs)
        const expected = a.slice().sort()
        const got = sortFloat64(a)
        expect(got).toBe(a)
        for (let i = 0; i < a.length; i++) expect(Object.is(got[i], expected[i])).toBe(true)
      }),
      { numRuns: 60 }
    )
  })
  it("on a subarray view, leaving the rest of the buffer alone", () => {
    const buf = Float64Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 1000)
    const copy = buf.slice()
    sortFloat64(buf.subarray(500, 1500))
    expect(Array.from(buf.subarray(0, 500))).toEqual(Array.from(copy.subarray(0, 500)))
    expect(Array.from(buf.subarray(500, 1500))).toEqual(Array.from(copy.subarray(500, 1500).sort()))
    expect(Array.from(buf.subarray(1500))).toEqual(Array.from(copy.subarray(1500)))
  })
})
