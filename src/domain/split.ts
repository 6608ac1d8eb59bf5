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
  // Each row's part (0 train, 1 val, 2 test), then the parts collected in row order: sorted without a
  // sort, and no data-sized spread or per-row array growth (a million rows take one pass each).
  const part = new Uint8Array(n)
  const assign = (idx: ArrayLike<number>) => {
    const [a, b] = allocate(idx.length, fractions)
    for (let k = 0; k < idx.length; k++) part[idx[k]!] = k < a ? 0 : k < a + b ? 1 : 2
  }
  if (strata === undefined) {
    const idx = new Uint32Array(n)
    for (let i = 0; i < n; i++) idx[i] = i
    assign(shuffleInPlace(idx, r))
  } else {
    const groups = new Map<string, number[]>()
    for (let i = 0; i < n; i++) {
      const k = strata[i] ?? "\u0000null"
      let g = groups.get(k)
      if (g === undefined) groups.set(k, (g = []))
      g.push(i)
    }
    for (const key of [...groups.keys()].sort()) assign(shuffleInPlace(groups.get(key)!, r))
  }
  const sizes = [0, 0, 0]
  for (let i = 0; i < n; i++) sizes[part[i]!]!++
  const out: [number[], number[], number[]] = [new Array(sizes[0]), new Array(sizes[1]), new Array(sizes[2])]
  const fill = [0, 0, 0]
  for (let i = 0; i < n; i++) {
    const p = part[i]!
    out[p][fill[p]!++] = i
  }
  return { train: out[0], val: out[1], test: out[2] }
}
