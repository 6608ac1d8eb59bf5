import { rng, shuffleInPlace } from "../domain/random.js"
import { LearnerInputError } from "./matrix.js"

/** Row indices of a train/test split, each ascending. */
export interface Split {
  readonly train: Int32Array
  readonly test: Int32Array
}

const testCount = (n: number, testFraction: number): number => {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new LearnerInputError(`test fraction must be in (0, 1), got ${testFraction}`)
  }
  const t = Math.ceil(testFraction * n) // scikit-learn rounds the test size up
  if (t < 1 || t >= n) throw new LearnerInputError(`cannot split ${n} rows with test fraction ${testFraction}`)
  return t
}

const ascending = (a: ArrayLike<number>): Int32Array => Int32Array.from(a).sort()

/** Random split of rows 0..n-1, a pure function of the seed. */
export const trainTestSplit = (n: number, testFraction: number, seed: number): Split => {
  const t = testCount(n, testFraction)
  const perm = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng(seed)
  )
  return { test: ascending(perm.slice(0, t)), train: ascending(perm.slice(t)) }
}

/**
 * Split that keeps class proportions: each class gives floor(share) test rows, and the rows left over
 * go to the classes with the largest remainders (ties to the lower class index).
 */
export const stratifiedSplit = (y: ArrayLike<number>, testFraction: number, seed: number): Split => {
  const n = y.length
  const t = testCount(n, testFraction)
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < n; i++) {
    const c = y[i]!
    const list = byClass.get(c)
    if (list === undefined) byClass.set(c, [i])
    else list.push(i)
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b)
  const quota = classes.map((c) => (byClass.get(c)!.length * t) / n)
  const take = quota.map(Math.floor)
  let left = t - take.reduce((s, v) => s + v, 0)
  const order = classes.map((_, k) => k).sort((a, b) => quota[b]! - take[b]! - (quota[a]! - take[a]!) || a - b)
  for (const k of order) {
    if (left === 0) break
    if (take[k]! < byClass.get(classes[k]!)!.length) {
      take[k]! += 1
      left--
    }
  }
  const r = rng(seed)
  const test: number[] = [],
    train: number[] = []
  classes.forEach((c, k) => {
    const rows = shuffleInPlace(byClass.get(c)!.slice(), r)
    for (let i = 0; i < rows.length; i++) (i < take[k]! ? test : train).push(rows[i]!)
  })
  return { test: ascending(test), train: ascending(train) }
}
