/**
 * A small, fast, seeded PRNG (sfc32 seeded through splitmix32) shared by splitting, learners and
 * statistics, so a run's randomness is a pure function of its seed. Not cryptographic.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** Standard normal (Box–Muller). */
  readonly normal: () => number
}

const splitmix32 = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export const rng = (seed: number): Rng => {
  const sm = splitmix32((Math.floor(seed) >>> 0) ^ Math.floor(seed / 4294967296))
  // the state in a typed array, not in closure variables: a variable holding a uint32 above 2^31 is a
  // boxed number, and every draw would allocate four of them
  const st = new Uint32Array(4)
  st[0] = sm()
  st[1] = sm()
  st[2] = sm()
  st[3] = sm()
  const u32 = (): number => {
    const a = st[0]!
    const b = st[1]!
    const c = st[2]!
    const d = st[3]!
    const t = (((a + b) >>> 0) + d) >>> 0
    st[3] = d + 1
    st[0] = b ^ (b >>> 9)
    st[1] = c + (c << 3)
    const c2 = (c << 21) | (c >>> 11)
    st[2] = c2 + t
    return t
  }
  for (let i = 0; i < 12; i++) u32()
  const next = () => u32() / 4294967296
  let spare: number | undefined
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (spare !== undefined) {
        const s = spare
        spare = undefined
        return s
      }
      let u = 0
      while (u === 0) u = next()
      const v = next()
      const r = Math.sqrt(-2 * Math.log(u))
      spare = r * Math.sin(2 * Math.PI * v)
      return r * Math.cos(2 * Math.PI * v)
    }
  }
}

/** A child seed for stream `k` of `seed` (e.g. tree k of a forest): independent of thread count. */
export const deriveSeed = (seed: number, k: number): number => {
  const sm = splitmix32((Math.imul(seed >>> 0, 0x2545f491) ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0)
  sm()
  return sm()
}

/** Fisher–Yates shuffle in place. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any indexable array type (Int32Array, Float64Array, T[])
export const shuffleInPlace = <T extends { length: number; [i: number]: any }>(arr: T, r: Rng): T => {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    const t = arr[i]
    arr[i] = arr[j]
    arr[j] = t
  }
  return arr
}
