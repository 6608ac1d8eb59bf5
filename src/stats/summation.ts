/**
 * NumPy's summation order: `np.sum` over a contiguous float64 array is a pairwise sum with blocks of
 * 128 and an 8-way unrolled inner loop. Reproducing the order (not just the maths) keeps our sums
 * within an ulp or two of NumPy's, so statistics built on them match SciPy to far better than 1e-9.
 */

const pairwise = (a: ArrayLike<number>, start: number, n: number): number => {
  if (n < 8) {
    let res = 0
    for (let i = 0; i < n; i++) res += a[start + i]
    return res
  }
  if (n <= 128) {
    let r0 = a[start],
      r1 = a[start + 1],
      r2 = a[start + 2],
      r3 = a[start + 3]
    let r4 = a[start + 4],
      r5 = a[start + 5],
      r6 = a[start + 6],
      r7 = a[start + 7]
    const end = n - (n % 8)
    let i = 8
    for (; i < end; i += 8) {
      const p = start + i
      r0 += a[p]
      r1 += a[p + 1]
      r2 += a[p + 2]
      r3 += a[p + 3]
      r4 += a[p + 4]
      r5 += a[p + 5]
      r6 += a[p + 6]
      r7 += a[p + 7]
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7))
    for (; i < n; i++) res += a[start + i]
    return res
  }
  let n2 = Math.floor(n / 2)
  n2 -= n2 % 8
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2)
}

/** Sum of a[start, start + length) in NumPy's pairwise order. */
export const pairwiseSum = (a: ArrayLike<number>, start = 0, length = a.length - start): number =>
  length <= 0 ? 0 : pairwise(a, start, length)

/** np.mean. */
export const npMean = (a: ArrayLike<number>): number => pairwiseSum(a) / a.length

/** np.std with ddof = 0 (population), computed the way NumPy does: mean, squared deviations, pairwise sum. */
export const npStd = (a: ArrayLike<number>, scratch?: Float64Array): number => {
  const n = a.length
  const m = npMean(a)
  const d = scratch !== undefined && scratch.length >= n ? scratch : new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const x = a[i] - m
    d[i] = x * x
  }
  return Math.sqrt(pairwiseSum(d, 0, n) / n)
}
