/**
 * Stable argsort of float64 columns by LSD radix sort on the values' bits: the order of
 * `(a, b) => x[a] - x[b] || a - b` (ascending, ties by row), in O(n) per column instead of a
 * comparator sort's O(n log n) calls into JavaScript. Values must not be NaN; -0 sorts as 0.
 */

const DIGIT_BITS = 16
const BUCKETS = 1 << DIGIT_BITS

/** Scratch buffers for columns of up to n values, reused across columns. */
export interface ArgsortScratch {
  readonly n: number
  readonly bits: Float64Array
  /** The values' bits as (lo, hi) 32-bit words, little-endian. */
  readonly words: Uint32Array
  readonly keyHi: Uint32Array
  readonly keyLo: Uint32Array
  readonly keyHi2: Uint32Array
  readonly keyLo2: Uint32Array
  readonly idx2: Int32Array
  readonly count: Int32Array
}

export const argsortScratch = (n: number): ArgsortScratch => {
  const bits = new Float64Array(n)
  return {
    n,
    bits,
    words: new Uint32Array(bits.buffer),
    keyHi: new Uint32Array(n),
    keyLo: new Uint32Array(n),
    keyHi2: new Uint32Array(n),
    keyLo2: new Uint32Array(n),
    idx2: new Int32Array(n),
    count: new Int32Array(BUCKETS)
  }
}

/**
 * Writes into out[outOffset .. outOffset + n) the rows 0..n-1 ordered by values[offset + row]
 * (ascending; equal values keep row order).
 */
export const argsortColumn = (
  values: Float64Array,
  offset: number,
  n: number,
  out: Int32Array,
  outOffset: number,
  s: ArgsortScratch = argsortScratch(n)
): void => {
  if (s.n < n) throw new Error(`argsortColumn: scratch for ${s.n} values, column has ${n}`)
  const { bits, words, count } = s
  let hi = s.keyHi
  let lo = s.keyLo
  let hi2 = s.keyHi2
  let lo2 = s.keyLo2
  // keys whose unsigned order is the numeric order: flip the sign bit of positives, every bit of negatives
  for (let i = 0; i < n; i++) {
    const v = values[offset + i]!
    bits[i] = v === 0 ? 0 : v
  }
  for (let i = 0; i < n; i++) {
    const l = words[2 * i]!
    const h = words[2 * i + 1]!
    if (h >>> 31 === 1) {
      hi[i] = ~h >>> 0
      lo[i] = ~l >>> 0
    } else {
      hi[i] = (h | 0x80000000) >>> 0
      lo[i] = l
    }
  }
  let idx = out.subarray(outOffset, outOffset + n)
  let idx2 = s.idx2.subarray(0, n)
  for (let i = 0; i < n; i++) idx[i] = i
  let inOut = true
  // four 16-bit digits, least significant first; each pass is a stable counting sort
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? lo : hi
    const shift = (pass & 1) * DIGIT_BITS
    count.fill(0)
    for (let i = 0; i < n; i++) count[(word[i]! >>> shift) & (BUCKETS - 1)]!++
    // a digit that every key shares leaves the order as it is
    if (count[(word[0]! >>> shift) & (BUCKETS - 1)] === n) continue
    let sum = 0
    for (let b = 0; b < BUCKETS; b++) {
      const c = count[b]!
      count[b] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const d = (word[i]! >>> shift) & (BUCKETS - 1)
      const at = count[d]!++
      idx2[at] = idx[i]!
      hi2[at] = hi[i]!
      lo2[at] = lo[i]!
    }
    ;[idx, idx2] = [idx2, idx]
    ;[hi, hi2] = [hi2, hi]
    ;[lo, lo2] = [lo2, lo]
    inOut = !inOut
  }
  if (!inOut) out.set(idx, outOffset)
}
