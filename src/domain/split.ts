import { rng, shuffleInPlace } from "./random.js"

export interface SplitFractions {
  readonly train: number
  readonly val: number
  readonly test: number
}

export interface SplitIndices {
  readonly train: ReadonlyArray<number>
  readonly val: ReadonlyArray<number>
  readonly test: ReadonlyArray<number>
}

const allocate = (n: number, f: SplitFractions): [number, number, number] => {
  // Largest-remainder rounding so the three counts always add up to n.
  const exact = [n * f.train, n * f.val, n * f.test]
  const base = exact.map(Math.floor) as [number, number, number]
  let left = n - base[0] - base[1] - base[2]
  const order = [0, 1, 2].sort((a, b) => exact[b]! - base[b]! - (exact[a]! - base[a]!) || a - b)
  for (const k of order) {
    if (left <= 0) break
    if ((k === 1 && f.val === 0) || (k === 2 && f.test === 0)) continue
    base[k]++
    left--
  }
  base[0] += left
  return base
}

/**
 * Seeded train/val/test split. With `strata` (one label per row), each class is split on its own
 * so class ratios hold within one row per split. Indices come back sorted, so the split files
 * keep the raw file's row order and are byte-identical for the same seed and data.
 */
export const splitIndices = (
  n: number,
  fractions: SplitFractions,
  seed: number,
  strata?: ReadonlyArray<string | null>
): SplitIndices => {
  const r = rng(seed)
  const train: number[] = [],
    val: number[] = [],
    test: number[] = []
  const groups = new Map<string, number[]>()
  if (strata === undefined)
    groups.set(
      "",
      Array.from({ length: n }, (_, i) => i)
    )
  else {
    for (let i = 0; i < n; i++) {
      const k = strata[i] ?? "\u0000null"
      let g = groups.get(k)
      if (g === undefined) groups.set(k, (g = []))
      g.push(i)
    }
  }
  for (const key of [...groups.keys()].sort()) {
    const idx = shuffleInPlace(groups.get(key)!, r)
    const [a, b] = allocate(idx.length, fractions)
    // a loop, not push(...slice): a spread of a million indices overflows the call stack
    for (let k = 0; k < idx.length; k++) (k < a ? train : k < a + b ? val : test).push(idx[k]!)
  }
  const asc = (x: number, y: number) => x - y
  return { train: train.sort(asc), val: val.sort(asc), test: test.sort(asc) }
}
