import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sortFloat64, sortsInWasm } from "../../src/domain/sort.js"

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

  it("from 4,096 values (WebAssembly loops, and the JavaScript ones when asked), on arbitrary doubles and views", () => {
    const value = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, Infinity, -Infinity, 5e-324, -5e-324, 1, -1, Number.MAX_VALUE, -Number.MAX_VALUE),
      fc.integer({ min: -3, max: 3 })
    )
    const before = sortsInWasm()
    fc.assert(
      fc.property(fc.array(value, { minLength: 4096, maxLength: 9000 }), fc.boolean(), (xs, useWasm) => {
        const a = Float64Array.from(xs)
        const expected = a.slice().sort()
        const got = sortFloat64(a, { wasm: useWasm })
        expect(got).toBe(a)
        for (let i = 0; i < a.length; i++) expect(Object.is(got[i], expected[i])).toBe(true)
      }),
      { numRuns: 16, seed: 7 }
    )
    expect(sortsInWasm()).toBeGreaterThan(before)
    // a view into a larger buffer, a second sort reusing the grown memory, two that grow it again, then a
    // small one in the grown memory
    for (const [from, to] of [
      [1000, 61_000],
      [0, 5000],
      [3, 200_003],
      [7, 600_007],
      [0, 4096]
    ] as const) {
      const buf = Float64Array.from({ length: to + 1000 }, (_, i) => Math.sin(i * 7.1) * 1e6 - (i % 3) * 0.5)
      const copy = buf.slice()
      sortFloat64(buf.subarray(from, to))
      expect(Array.from(buf.subarray(0, from))).toEqual(Array.from(copy.subarray(0, from)))
      expect(Array.from(buf.subarray(from, to))).toEqual(Array.from(copy.subarray(from, to).sort()))
      expect(Array.from(buf.subarray(to))).toEqual(Array.from(copy.subarray(to)))
    }
  })
})
