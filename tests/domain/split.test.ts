import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { splitIndices } from "../../src/domain/split.js"

describe("splitIndices", () => {
  it("is a partition, deterministic for a seed and different across seeds", () => {
    const a = splitIndices(100, { train: 0.7, val: 0.15, test: 0.15 }, 1)
    const b = splitIndices(100, { train: 0.7, val: 0.15, test: 0.15 }, 1)
    const c = splitIndices(100, { train: 0.7, val: 0.15, test: 0.15 }, 2)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    expect([...a.train, ...a.val, ...a.test].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect([a.train.length, a.val.length, a.test.length]).toEqual([70, 15, 15])
  })

  it("keeps class ratios within one row per class and split (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c"), { minLength: 10, maxLength: 300 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.constantFrom([0.7, 0.15, 0.15], [0.8, 0.2, 0], [0.6, 0.2, 0.2], [0.5, 0.25, 0.25]),
        (labels, seed, [train, val, test]) => {
          const s = splitIndices(labels.length, { train: train!, val: val!, test: test! }, seed, labels)
          for (const cls of ["a", "b", "c"]) {
            const n = labels.filter((l) => l === cls).length
            const count = (idx: ReadonlyArray<number>) => idx.filter((i) => labels[i] === cls).length
            expect(Math.abs(count(s.train) - n * train!)).toBeLessThanOrEqual(1)
            expect(Math.abs(count(s.val) - n * val!)).toBeLessThanOrEqual(1)
            expect(Math.abs(count(s.test) - n * test!)).toBeLessThanOrEqual(1)
          }
          expect(s.train.length + s.val.length + s.test.length).toBe(labels.length)
        }
      )
    )
  })
})

describe("splitIndices at size", () => {
  it("splits 600,000 rows (no spread of the index arrays into call arguments)", () => {
    const n = 600_000
    const s = splitIndices(n, { train: 0.8, val: 0.2, test: 0 }, 3)
    expect(s.train.length + s.val.length + s.test.length).toBe(n)
    expect(s.train.length).toBe(n * 0.8)
  })
})
