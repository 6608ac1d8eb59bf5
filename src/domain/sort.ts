/**
 * Sorting Float64Array fast: an LSD radix sort on the IEEE-754 bit patterns (8 passes of one byte,
 * passes where every key has the same byte skipped). The order is the numeric order of
 * Float64Array.prototype.sort (-0 before +0; callers drop NaN first), at 3-6x its speed for the
 * 10^4..10^6 values a drift batch holds. Small arrays use the built-in sort. From WASM_MIN values the
 * key and scatter loops run as WebAssembly (compiled before the first value: a CLI run sorts a few columns
 * once, so as JavaScript they ran mostly as cold code — 8 columns of 82,560 values took 32 ms in a fresh
 * process, 19 ms so), on a copy of the values in a memory of this module's own that grows to the thread's
 * largest sort (16 bytes a value: a sort of its own per large array left several unreclaimed until the next
 * collection, 60 MB more at the peak of the 1M scale run); the JavaScript loops remain where WebAssembly is not available. Both give the same
 * order, so the same bytes.
 */
import { assemble, at, forRange, I32, I64, op, wasmApi, type Fn, type WasmMemory, type WasmModule } from "./wasm.js"

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
const trivialOrOffsets = (counts: Uint32Array, base: number, n: number): boolean => {
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

/**
 * Sorts `a` ascending in place and returns it. NaN must not be present. `wasm: false` keeps to the
 * JavaScript loops (tests compare the two).
 */
export const sortFloat64 = (a: Float64Array, options: { readonly wasm?: boolean } = {}): Float64Array => {
  const n = a.length
  if (n < RADIX_MIN || !LITTLE_ENDIAN) return a.sort()
  if (n >= WASM_MIN && options.wasm !== false && sortWasm(a)) {
    sortedInWasm++
    return a
  }
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * n)
  if (scratch.length < 2 * n) scratch = new Uint32Array(2 * n)
  counts.fill(0)
  toKeys(u, n)
  let src: Uint32Array = u
  let dst: Uint32Array = scratch.length === 2 * n ? scratch : scratch.subarray(0, 2 * n)
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256
    if (trivialOrOffsets(counts, base, n)) continue
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

// ---- the same sort as WebAssembly ------------------------------------------------------------------

export const WASM_MIN = 4096

let sortedInWasm = 0
/** Sorts done by the WebAssembly loops in this thread (tests check they are really used). */
export const sortsInWasm = (): number => sortedInWasm

/** 1 << 63, the sign bit of an i64. */
const SIGN = [...op.i64(1), ...op.i64(63), ...op.i64Shl]

/**
 * keys(a, n, counts): each value's bits at a to its key (negative: every bit flipped, else the sign bit:
 * k ^ ((k >> 63) | sign)), in place, and each of its 8 bytes counted (counts: 8 × 256 uint32).
 */
const keysFn = (): Fn => {
  const [a, n, counts, i, k, p] = [0, 1, 2, 3, 4, 5]
  const countByte = (byte: number) => [
    ...op.get(counts),
    ...op.get(k),
    ...op.i64(byte * 8),
    ...op.i64ShrU,
    ...op.i32WrapI64,
    ...op.i32(255),
    ...op.and,
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.i32(byte * 1024),
    ...op.add,
    ...op.tee(p),
    ...op.get(p),
    ...op.i32Load(0),
    ...op.i32(1),
    ...op.add,
    ...op.i32Store(0)
  ]
  return {
    name: "keys",
    params: 3,
    locals: [
      [1, I32],
      [1, I64],
      [1, I32]
    ],
    body: forRange(i, op.i32(0), n, [
      ...at(a, i, 3),
      ...at(a, i, 3),
      ...op.i64Load(0),
      ...op.tee(k),
      ...op.get(k),
      ...op.i64(63),
      ...op.i64ShrS,
      ...SIGN,
      ...op.i64Or,
      ...op.i64Xor,
      ...op.tee(k),
      ...op.i64Store(0),
      ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap(countByte)
    ])
  }
}

/** scatter(src, dst, n, offsets, shift): each key to dst[offsets[its byte at shift]++] (stable). */
const scatterFn = (): Fn => {
  const [src, dst, n, offsets, shift, i, k, p, pos] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  return {
    name: "scatter",
    params: 5,
    locals: [
      [1, I32],
      [1, I64],
      [2, I32]
    ],
    body: forRange(i, op.i32(0), n, [
      ...at(src, i, 3),
      ...op.i64Load(0),
      ...op.set(k),
      ...op.get(offsets),
      ...op.get(k),
      ...op.get(shift),
      ...op.i64ExtendI32U,
      ...op.i64ShrU,
      ...op.i32WrapI64,
      ...op.i32(255),
      ...op.and,
      ...op.i32(2),
      ...op.shl,
      ...op.add,
      ...op.tee(p),
      ...op.i32Load(0),
      ...op.set(pos),
      ...op.get(p),
      ...op.get(pos),
      ...op.i32(1),
      ...op.add,
      ...op.i32Store(0),
      ...at(dst, pos, 3),
      ...op.get(k),
      ...op.i64Store(0)
    ])
  }
}

/** values(a, n): the keys back to the values' bits (k ^ (~(k >> 63) | sign)), in place. */
const valuesFn = (): Fn => {
  const [a, n, i, k] = [0, 1, 2, 3]
  return {
    name: "values",
    params: 2,
    locals: [
      [1, I32],
      [1, I64]
    ],
    body: forRange(i, op.i32(0), n, [
      ...at(a, i, 3),
      ...at(a, i, 3),
      ...op.i64Load(0),
      ...op.tee(k),
      ...op.get(k),
      ...op.i64(63),
      ...op.i64ShrS,
      ...op.i64(-1),
      ...op.i64Xor,
      ...SIGN,
      ...op.i64Or,
      ...op.i64Xor,
      ...op.i64Store(0)
    ])
  }
}

type Loop = (...args: Array<number>) => void
interface Loops {
  readonly module: WasmModule
  readonly memory: WasmMemory
  readonly keys: Loop
  readonly scatter: Loop
  readonly values: Loop
}
let wasm: Loops | null | undefined

const COUNTS_BYTES = 8 * 256 * 4

/** The compiled loops (compiled on first use), or null where WebAssembly is not available. */
const compiled = (): Loops | null => {
  if (wasm === undefined) {
    wasm = null
    try {
      if (wasmApi !== undefined) {
        const module = new wasmApi.Module(assemble([keysFn(), scatterFn(), valuesFn()]))
        const memory = new wasmApi.Memory({ initial: 1 })
        const e = new wasmApi.Instance(module, { m: { memory } }).exports as Record<string, Loop>
        wasm = { module, memory, keys: e["keys"]!, scatter: e["scatter"]!, values: e["values"]! }
      }
    } catch {
      wasm = null
    }
  }
  return wasm
}

/**
 * Whether sortFloat64 runs as WebAssembly from WASM_MIN values: a sort is then cheaper than a selection
 * in JavaScript for an order statistic of a large array (the median imputer's).
 */
export const sortIsCompiled = (): boolean => compiled() !== null

/** Sorts `a` with the WebAssembly loops; false (and `a` untouched) where they are not available. */
const sortWasm = (a: Float64Array): boolean => {
  const wasm = compiled()
  if (wasm === null) return false
  const n = a.length
  // counts, then the values and as many again for the scatter's other side
  const need = COUNTS_BYTES + 16 * n
  const loops = wasm
  const memory = loops.memory
  if (memory.buffer.byteLength < need) {
    try {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65_536))
    } catch {
      return false
    }
  }
  const buffer = memory.buffer
  const counts = new Uint32Array(buffer, 0, 8 * 256)
  counts.fill(0)
  const first = COUNTS_BYTES
  new Float64Array(buffer, first, n).set(a)
  loops.keys(first, n, 0)
  let src = first
  let dst = first + 8 * n
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256
    if (trivialOrOffsets(counts, base, n)) continue
    loops.scatter(src, dst, n, base * 4, pass * 8)
    const t = src
    src = dst
    dst = t
  }
  loops.values(src, n)
  a.set(new Float64Array(buffer, src, n))
  return true
}
