/**
 * Sorting Float64Array fast: an LSD radix sort on the IEEE-754 bit patterns (8 passes of one byte,
 * passes where every key has the same byte skipped). The order is the numeric order of
 * Float64Array.prototype.sort (-0 before +0; callers drop NaN first), at 3-6x its speed for the
 * 10^4..10^6 values a drift batch holds. Small arrays use the built-in sort.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const RADIX_MIN = 512

let scratch = new Uint32Array(0)
const counts = new Uint32Array(8 * 256)

// Each loop is a function of its own: a sort is often the only one of its size in a process (a CLI run
// sorts a few columns), so its loops run while V8 is still compiling them. In one function, the first
// loop was optimised before the code after it had ever run, and that code then deoptimised on its first
// use, sort after sort (dozens of deoptimisations in a 100k-row run); a small function is optimised
// with its whole body's type feedback.

/** Maps the values to unsigned keys whose order is the numeric order (negative: every bit flipped, else the sign bit) and counts each byte of them. */
const toKeys = (u: Uint32Array, n: number): void => {
  for (let i = 0; i < n; i++) {
    const lo = 2 * i
    const hi = lo + 1
    let h = u[hi]!
    let l = u[lo]!
    if (h & 0x80000000) {
      h = ~h >>> 0
      l = ~l >>> 0
    } else {
      h = (h | 0x80000000) >>> 0
    }
    u[hi] = h
    u[lo] = l
    counts[l & 0xff]!++
    counts[256 + ((l >>> 8) & 0xff)]!++
    counts[512 + ((l >>> 16) & 0xff)]!++
    counts[768 + (l >>> 24)]!++
    counts[1024 + (h & 0xff)]!++
    counts[1280 + ((h >>> 8) & 0xff)]!++
    counts[1536 + ((h >>> 16) & 0xff)]!++
    counts[1792 + (h >>> 24)]!++
  }
}

/** The keys back to the values' bit patterns. */
const fromKeys = (u: Uint32Array, n: number): void => {
  for (let i = 0; i < n; i++) {
    const lo = 2 * i
    const hi = lo + 1
    const h = u[hi]!
    if (h & 0x80000000) {
      u[hi] = (h & 0x7fffffff) >>> 0
    } else {
      u[hi] = ~h >>> 0
      u[lo] = ~u[lo]! >>> 0
    }
  }
}

/** Whether every key has the same byte in this pass (the pass would move nothing); else the counts become start positions. */
const trivialOrOffsets = (base: number, n: number): boolean => {
  for (let b = 0; b < 256; b++) {
    const c = counts[base + b]!
    if (c === n) return true
    if (c !== 0) break
  }
  let sum = 0
  for (let b = 0; b < 256; b++) {
    const c = counts[base + b]!
    counts[base + b] = sum
    sum += c
  }
  return false
}

/** One stable pass on a byte of the low word: each key to its byte's next place. */
const scatterLow = (src: Uint32Array, dst: Uint32Array, n: number, base: number, shift: number): void => {
  for (let i = 0; i < n; i++) {
    const l = src[2 * i]!
    const h = src[2 * i + 1]!
    const pos = 2 * counts[base + ((l >>> shift) & 0xff)]!++
    dst[pos] = l
    dst[pos + 1] = h
  }
}

/** One stable pass on a byte of the high word (a copy of scatterLow: one loop choosing the word per key was ~20% slower). */
const scatterHigh = (src: Uint32Array, dst: Uint32Array, n: number, base: number, shift: number): void => {
  for (let i = 0; i < n; i++) {
    const l = src[2 * i]!
    const h = src[2 * i + 1]!
    const pos = 2 * counts[base + ((h >>> shift) & 0xff)]!++
    dst[pos] = l
    dst[pos + 1] = h
  }
}

/** Sorts `a` ascending in place and returns it. NaN must not be present. */
export const sortFloat64 = (a: Float64Array): Float64Array => {
  const n = a.length
  if (n < RADIX_MIN || !LITTLE_ENDIAN) return a.sort()
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * n)
  if (scratch.length < 2 * n) scratch = new Uint32Array(2 * n)
  counts.fill(0)
  toKeys(u, n)
  let src: Uint32Array = u
  let dst: Uint32Array = scratch.length === 2 * n ? scratch : scratch.subarray(0, 2 * n)
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256
    if (trivialOrOffsets(base, n)) continue
    if (pass < 4) scatterLow(src, dst, n, base, (pass & 3) * 8)
    else scatterHigh(src, dst, n, base, (pass & 3) * 8)
    const t = src
    src = dst
    dst = t
  }
  if (src !== u) u.set(src)
  fromKeys(u, n)
  return a
}
