import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { rng, shuffleInPlace } from "../../src/domain/random.js"
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

  it("splits 1,032,000 rows, and 510,000 stratified rows, without overflowing the stack", () => {
    const check = (n: number, strata?: ReadonlyArray<string>) => {
      const s = splitIndices(n, { train: 0.8, val: 0.1, test: 0.1 }, 42, strata)
      // plain loops: an expect() per index would take minutes
      const seen = new Uint8Array(n)
      let repeated = 0
      let unordered = 0
      for (const part of [s.train, s.val, s.test]) {
        for (let k = 0; k < part.length; k++) {
          const i = part[k]!
          repeated += seen[i]!
          seen[i] = 1
          if (k > 0 && !(part[k - 1]! < i)) unordered++
        }
      }
      expect({ repeated, unordered }).toEqual({ repeated: 0, unordered: 0 })
      expect(s.train.length + s.val.length + s.test.length).toBe(n)
      return s
    }
    const plain = check(1_032_000)
    expect([plain.train.length, plain.val.length, plain.test.length]).toEqual([825_600, 103_200, 103_200])
    const labels = Array.from({ length: 510_000 }, (_, i) => (i % 3 === 0 ? "a" : "b"))
    const strat = check(510_000, labels)
    expect(strat.train.filter((i) => labels[i] === "a").length).toBe(136_000)
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

describe("splitIndices keeps the rows of the sort-based split it replaced", () => {
  // the previous implementation (shuffle each stratum, slice, push, sort): splits already in workspaces came from it
  const previous = (n: number, f: { train: number; val: number; test: number }, seed: number, strata?: string[]) => {
    const r = rng(seed)
    const parts: [number[], number[], number[]] = [[], [], []]
    const groups = new Map<string, number[]>()
    if (strata === undefined)
      groups.set(
        "",
        Array.from({ length: n }, (_, i) => i)
      )
    else
      strata.forEach((s, i) => {
        const g = groups.get(s) ?? []
        g.push(i)
        groups.set(s, g)
      })
    for (const key of [...groups.keys()].sort()) {
      const idx = shuffleInPlace(groups.get(key)!, r)
      const exact = [idx.length * f.train, idx.length * f.val, idx.length * f.test]
      const base = exact.map(Math.floor)
      let left = idx.length - base[0]! - base[1]! - base[2]!
      const order = [0, 1, 2].sort((a, b) => exact[b]! - base[b]! - (exact[a]! - base[a]!) || a - b)
      for (const k of order) {
        if (left <= 0) break
        if ((k === 1 && f.val === 0) || (k === 2 && f.test === 0)) continue
        base[k]!++
        left--
      }
      base[0]! += left
      idx.forEach((i, k) => parts[k < base[0]! ? 0 : k < base[0]! + base[1]! ? 1 : 2].push(i))
    }
    const asc = (x: number, y: number) => x - y
    return { train: parts[0].sort(asc), val: parts[1].sort(asc), test: parts[2].sort(asc) }
  }
  for (const [n, f, seed, classes] of [
    [1000, { train: 0.7, val: 0.15, test: 0.15 }, 1, 0],
    [997, { train: 0.8, val: 0.2, test: 0 }, 42, 0],
    [5000, { train: 0.6, val: 0.2, test: 0.2 }, 7, 3],
    [333, { train: 0.5, val: 0.25, test: 0.25 }, 9, 5]
  ] as const)
    it(`${n} rows, ${classes} strata, seed ${seed}`, () => {
      const strata = classes === 0 ? undefined : Array.from({ length: n }, (_, i) => `c${(i * 7919) % classes}`)
      expect(splitIndices(n, f, seed, strata)).toEqual(previous(n, f, seed, strata))
    })
})
