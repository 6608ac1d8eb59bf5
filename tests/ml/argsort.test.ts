import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { argsortColumn, argsortScratch } from "../../src/ml/tree/argsort.js"

/** The order the tree grower used before the radix sort: a comparator sort, ties by row. */
const comparatorOrder = (x: Float64Array, off: number, n: number): Int32Array => {
  const idx = Array.from({ length: n }, (_, i) => i)
  idx.sort((a, b) => x[off + a]! - x[off + b]! || a - b)
  return Int32Array.from(idx)
}

describe("argsortColumn (radix argsort for the tree grower's presort)", () => {
  it("gives the comparator sort's order on values with ties, signs, -0, infinities, subnormals and huge values", () => {
    const r = rng(11)
    const special = [
      0,
      -0,
      1,
      -1,
      Infinity,
      -Infinity,
      5e-324,
      -5e-324,
      1.7976931348623157e308,
      -1.7976931348623157e308
    ]
    const n = 5000
    const cols = 4
    const x = new Float64Array(n * cols)
    for (let i = 0; i < n; i++) {
      x[i] = special[r.int(special.length)]! // column 0: only special values, many ties
      x[n + i] = r.int(20) - 10 // column 1: small integers, ties
      x[2 * n + i] = (r.next() - 0.5) * 1e6 // column 2: mostly distinct
      x[3 * n + i] = 42 // column 3: constant
    }
    const out = new Int32Array(n * cols)
    const scratch = argsortScratch(n)
    for (let j = 0; j < cols; j++) argsortColumn(x, j * n, n, out, j * n, scratch)
    for (let j = 0; j < cols; j++) expect(out.subarray(j * n, (j + 1) * n)).toEqual(comparatorOrder(x, j * n, n))
  })

  it("sorts a column of 600,000 values like the comparator sort", () => {
    const r = rng(3)
    const n = 600_000
    const x = new Float64Array(n)
    // rounded to 3 decimals: many ties, as in real columns
    for (let i = 0; i < n; i++) x[i] = Math.round((r.next() - 0.3) * 1e5) / 1000
    const out = new Int32Array(n)
    argsortColumn(x, 0, n, out, 0)
    expect(out).toEqual(comparatorOrder(x, 0, n))
  })
})
