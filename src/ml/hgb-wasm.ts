// The HGB kernel's row loops (hgb-kernel.ts) as WebAssembly, emitted by domain/wasm.ts's assembler: a fit runs
// each loop once per node, so in JavaScript a process's first fit ran them largely as cold code
// (interpreted, then optimised piece by piece: 0.70 s for the first fit of 82,560 rows against 0.54 s for a
// second); compiled code runs at full speed from the first row. The loops do the same floating-point
// operations in the same order as the JavaScript ones (a bin's sums add its rows in order), so the models
// are the same bytes either way.
//
// Every array a loop reads or writes lives on one shared WebAssembly.Memory (the grower lays the kernel's
// data out on it: hgbArena), and every address is a byte address into it.
import {
  assemble,
  at,
  F64,
  f64AddAt,
  forRange,
  I32,
  op,
  wasmApi,
  type Fn,
  type WasmMemory,
  type WasmModule
} from "../domain/wasm.js"

/** Histogram loop modes: rows through part (positions lo..hi), rows lo..hi in order, in order with the counts cached. */
const MODES = ["p", "o", "c"] as const

/**
 * Export index of the histogram loop for `stride` doubles per bin (2 or 3), `mode` (0 part, 1 in order,
 * 2 in order with cached counts) and `features` (1–4) features at a time. HGB_SPLIT_PART and
 * HGB_SPLIT_ORDERED are the partition's loops. The kernel repeats this arithmetic (it cannot import).
 */
export const hgbHistogramExport = (stride: number, mode: number, features: number): number =>
  (stride - 2) * 12 + mode * 4 + features - 1
export const HGB_SPLIT_PART = 24
export const HGB_SPLIT_ORDERED = 25
export const HGB_LEAF_ADD = 26
export const HGB_SQUARED_ERROR = 27
export const HGB_WALK = 28
export const HGB_PREDICT = 29

/**
 * h(src, lo, hi, grad, hess, c_0 .. c_{nf-1}, o_0 .. o_{nf-1}): for each row i (part[k] for k in [lo, hi)
 * with part at byte address src, or i in [lo, hi)), g = grad[i] (f32 at grad + 4i) and, with a stride of
 * 3, h = hess[i]; then for each feature j the bin's doubles at a = o_j + bin · 8·stride (bin the byte at
 * c_j + i): a += g, (a + 8 += h), and unless the counts are cached the last double += 1.
 */
const histogramFn = (stride: number, mode: number, nf: number): Fn => {
  const [src, lo, hi, grad, hess] = [0, 1, 2, 3, 4]
  const c = (j: number) => 5 + j
  const o = (j: number) => 5 + nf + j
  const params = 5 + 2 * nf
  const [k, i, a, g, h] = [params, params + 1, params + 2, params + 3, params + 4]
  const perFeature: Array<number> = []
  for (let j = 0; j < nf; j++) {
    perFeature.push(...op.get(c(j)), ...op.get(i), ...op.add, ...op.i32Load8U(0))
    perFeature.push(...(stride === 2 ? [...op.i32(4), ...op.shl] : [...op.i32(24), ...op.mul]))
    perFeature.push(...op.get(o(j)), ...op.add, ...op.set(a))
    perFeature.push(...f64AddAt(a, op.get(g)))
    if (stride === 3) perFeature.push(...f64AddAt(a, op.get(h), 8))
    if (mode !== 2) {
      const last = 8 * (stride - 1)
      perFeature.push(...f64AddAt(a, op.f64(1), last))
    }
  }
  const row =
    mode === 0
      ? [...op.get(src), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.i32Load(0), ...op.set(i)]
      : [...op.get(k), ...op.set(i)]
  const load = (base: number, into: number) => [
    ...op.get(base),
    ...op.get(i),
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.f32Load(0),
    ...op.f64PromoteF32,
    ...op.set(into)
  ]
  return {
    name: `h${stride}${MODES[mode]}${nf}`,
    params,
    locals: [
      [3, I32],
      [2, F64]
    ],
    body: [
      ...op.get(lo),
      ...op.set(k),
      ...op.block,
      ...op.get(k),
      ...op.get(hi),
      ...op.geU,
      ...op.brIf(0),
      ...op.loop,
      ...row,
      ...load(grad, g),
      ...(stride === 3 ? load(hess, h) : []),
      ...perFeature,
      ...op.get(k),
      ...op.i32(1),
      ...op.add,
      ...op.tee(k),
      ...op.get(hi),
      ...op.ltU,
      ...op.brIf(0),
      ...op.end,
      ...op.end
    ]
  }
}

/**
 * split(src, out, right, col, splitBin, missingBin, lo, hi) → left count: for each row i (part[k] for k in
 * [lo, hi) with part at src, or i in [lo, hi)), b = the byte at col + i; left when b <= splitBin or b is
 * missingBin; the row is written at both out[lo + left count] and right[lo + right count] and only its
 * side's count moves (no branch; out may be src: position lo + left count <= k was already read).
 */
const splitFn = (ordered: boolean): Fn => {
  const [src, out, right, col, splitBin, missingBin, lo, hi] = [0, 1, 2, 3, 4, 5, 6, 7]
  const [k, i, b, nl, nr, left] = [8, 9, 10, 11, 12, 13]
  const store = (base: number, count: number) => [
    ...op.get(base),
    ...op.get(lo),
    ...op.get(count),
    ...op.add,
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.get(i),
    ...op.i32Store(0)
  ]
  return {
    name: ordered ? "so" : "sp",
    params: 8,
    results: [I32],
    locals: [[6, I32]],
    body: [
      ...op.get(lo),
      ...op.set(k),
      ...op.block,
      ...op.get(k),
      ...op.get(hi),
      ...op.geU,
      ...op.brIf(0),
      ...op.loop,
      ...(ordered
        ? [...op.get(k), ...op.set(i)]
        : [...op.get(src), ...op.get(k), ...op.i32(2), ...op.shl, ...op.add, ...op.i32Load(0), ...op.set(i)]),
      ...op.get(col),
      ...op.get(i),
      ...op.add,
      ...op.i32Load8U(0),
      ...op.set(b),
      ...op.get(b),
      ...op.get(splitBin),
      ...op.leS,
      ...op.get(b),
      ...op.get(missingBin),
      ...op.eq,
      ...op.or,
      ...op.set(left),
      ...store(out, nl),
      ...store(right, nr),
      ...op.get(nl),
      ...op.get(left),
      ...op.add,
      ...op.set(nl),
      ...op.get(nr),
      ...op.i32(1),
      ...op.add,
      ...op.get(left),
      ...op.sub,
      ...op.set(nr),
      ...op.get(k),
      ...op.i32(1),
      ...op.add,
      ...op.tee(k),
      ...op.get(hi),
      ...op.ltU,
      ...op.brIf(0),
      ...op.end,
      ...op.end,
      ...op.get(nl)
    ]
  }
}

/** leafAdd(part, raw, lo, hi, v): raw[part[q]] += v for positions q in [lo, hi) (raw: doubles). */
const leafAddFn = (): Fn => {
  const [part, raw, lo, hi, v] = [0, 1, 2, 3, 4]
  const [k, a] = [5, 6]
  return {
    name: "leafAdd",
    params: [I32, I32, I32, I32, F64],
    locals: [[2, I32]],
    body: forRange(k, op.get(lo), hi, [
      ...op.get(raw),
      ...op.get(part),
      ...op.get(k),
      ...op.i32(2),
      ...op.shl,
      ...op.add,
      ...op.i32Load(0),
      ...op.i32(3),
      ...op.shl,
      ...op.add,
      ...op.set(a),
      ...f64AddAt(a, op.get(v))
    ])
  }
}

/**
 * squaredError(raw, y, grad, lo, hi) → loss: for rows i in [lo, hi), d = raw[i] − y[i], grad[i] = d (as
 * float32), loss += 0.5 · d · d (hgb-kernel.ts's gradientsOf for squared error, in its order).
 */
const squaredErrorFn = (): Fn => {
  const [raw, y, grad, lo, hi] = [0, 1, 2, 3, 4]
  const [i, d, loss] = [5, 6, 7]
  return {
    name: "squaredError",
    params: 5,
    results: [F64],
    locals: [
      [1, I32],
      [2, F64]
    ],
    body: [
      ...forRange(i, op.get(lo), hi, [
        ...at(raw, i, 3),
        ...op.f64Load(0),
        ...at(y, i, 3),
        ...op.f64Load(0),
        ...op.f64Sub,
        ...op.set(d),
        ...at(grad, i, 2),
        ...op.get(d),
        ...op.f32DemoteF64,
        ...op.f32Store(0),
        ...op.get(loss),
        ...op.f64(0.5),
        ...op.get(d),
        ...op.f64Mul,
        ...op.get(d),
        ...op.f64Mul,
        ...op.f64Add,
        ...op.set(loss)
      ]),
      ...op.get(loss)
    ]
  }
}

/**
 * Rows i from local lo while below local hi, L at a time while L are left, then one by one: start(l) puts lane
 * l on row i + l at its root, walking(l) leaves 1 while lane l is not on a leaf (a leaf is its own child),
 * step(l) moves lane l to its child, finish(l) adds lane l's leaf value. The L lanes step together until all
 * are on their leaves: independent chains of loads in flight, at the cost of the deepest row of the L.
 */
const lockStep = (
  L: number,
  i: number,
  lo: number,
  hi: number,
  lane: {
    readonly start: (l: number) => ReadonlyArray<number>
    readonly walking: (l: number) => ReadonlyArray<number>
    readonly step: (l: number) => ReadonlyArray<number>
    readonly finish: (l: number) => ReadonlyArray<number>
  }
): Array<number> => {
  const lanes = Array.from({ length: L }, (_, l) => l)
  const walkToLeaves = (these: ReadonlyArray<number>) => [
    ...op.block,
    ...op.loop,
    ...lane.walking(these[0]!),
    ...these.slice(1).flatMap((l) => [...lane.walking(l), ...op.or]),
    ...op.eqz,
    ...op.brIf(1),
    ...these.flatMap(lane.step),
    ...op.br(0),
    ...op.end,
    ...op.end
  ]
  return [
    ...op.get(lo),
    ...op.set(i),
    ...op.block,
    ...op.loop,
    ...op.get(i),
    ...op.i32(L),
    ...op.add,
    ...op.get(hi),
    ...op.gtS,
    ...op.brIf(1),
    ...lanes.flatMap(lane.start),
    ...walkToLeaves(lanes),
    ...lanes.flatMap(lane.finish),
    ...op.get(i),
    ...op.i32(L),
    ...op.add,
    ...op.set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // the rest one at a time
    ...op.block,
    ...op.loop,
    ...op.get(i),
    ...op.get(hi),
    ...op.geU,
    ...op.brIf(1),
    ...lane.start(0),
    ...walkToLeaves([0]),
    ...lane.finish(0),
    ...op.get(i),
    ...op.i32(1),
    ...op.add,
    ...op.set(i),
    ...op.br(0),
    ...op.end,
    ...op.end
  ]
}

/**
 * walk(bins, tree, nbnm, value, raw, features, lo, hi): for validation rows i in [lo, hi) (bins row-major),
 * raw[i] += value[leaf of row i] (raw: doubles). tree holds five int32 per node (feature, bin threshold,
 * missing-left, left, right; a leaf is its own child); a row goes left when its bin is at most the
 * threshold, or is the feature's missing-value bin (nbnm[feature]) and missing values go left. L rows (4)
 * walk in lock step until all are on their leaves (as hgb-kernel.ts's walkFour), the rest one by one.
 */
const walkFn = (L: number): Fn => {
  const [bins, tree, nbnm, value, raw, features, lo, hi] = [0, 1, 2, 3, 4, 5, 6, 7]
  const i = 8
  const r = (l: number) => 9 + l
  const node = (l: number) => 9 + L + l
  const [q, f, b] = [9 + 2 * L, 10 + 2 * L, 11 + 2 * L]
  // node of lane l = its child: q = tree + 20·node, child at q + 16 − 4·(went left)
  const step = (l: number) => [
    ...op.get(tree),
    ...op.get(node(l)),
    ...op.i32(20),
    ...op.mul,
    ...op.add,
    ...op.tee(q),
    ...op.i32Load(0),
    ...op.set(f),
    ...op.get(bins),
    ...op.get(r(l)),
    ...op.add,
    ...op.get(f),
    ...op.add,
    ...op.i32Load8U(0),
    ...op.set(b),
    ...op.get(q),
    ...op.i32(16),
    ...op.add,
    ...op.get(b),
    ...op.get(q),
    ...op.i32Load(4),
    ...op.leS,
    ...op.get(b),
    ...at(nbnm, f, 2),
    ...op.i32Load(0),
    ...op.eq,
    ...op.get(q),
    ...op.i32Load(8),
    ...op.and,
    ...op.or,
    ...op.i32(2),
    ...op.shl,
    ...op.sub,
    ...op.i32Load(0),
    ...op.set(node(l))
  ]
  // whether lane l is not on a leaf (its left child is not itself)
  const walking = (l: number) => [
    ...op.get(tree),
    ...op.get(node(l)),
    ...op.i32(20),
    ...op.mul,
    ...op.add,
    ...op.i32Load(12),
    ...op.get(node(l)),
    ...op.ne
  ]
  const addLeaf = (l: number) => [
    ...op.get(raw),
    ...op.get(i),
    ...op.i32(l),
    ...op.add,
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.set(q),
    ...f64AddAt(q, [...at(value, node(l), 3), ...op.f64Load(0)])
  ]
  const start = (l: number) => [
    ...op.get(i),
    ...op.i32(l),
    ...op.add,
    ...op.get(features),
    ...op.mul,
    ...op.set(r(l)),
    ...op.i32(0),
    ...op.set(node(l))
  ]
  return {
    name: "walk",
    params: 8,
    locals: [[3 + 3 * L, I32]],
    body: lockStep(L, i, lo, hi, { start, walking, step, finish: addLeaf })
  }
}

/**
 * predict(data, feature, threshold, children, nanLeft, value, out, cols, K, k, root, lo, hi): for rows i in
 * [lo, hi) of data (doubles, row-major, cols per row), out[i·K + k] += value[leaf] of the tree at node
 * root (hgb.ts's CompiledHgb arrays: a leaf is its own child). At node j the row goes to
 * children[2j + (!(x <= threshold[j]) ^ (x is NaN & nanLeft[j]))], x its value of feature[j]. L rows walk
 * in lock step until all are on their leaves (as hgb.ts's walkFour does four), the rest one by one: eight
 * (more chains of loads in flight) predicted 20,640 rows through 100 trees in 34–37 ms against 38–44 ms
 * for four; twelve or sixteen no faster.
 */
const predictFn = (L: number): Fn => {
  const [data, feature, threshold, children, nanLeft, value, out, cols, K, k, root, lo, hi] = Array.from(
    { length: 13 },
    (_, j) => j
  )
  const i = 13
  const r = (l: number) => 14 + l
  const node = (l: number) => 14 + L + l
  const [f, x] = [14 + 2 * L, 15 + 2 * L]
  const step = (l: number) => [
    ...op.get(r(l)),
    ...at(feature, node(l), 2),
    ...op.i32Load(0),
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.f64Load(0),
    ...op.set(x),
    ...at(children, node(l), 3),
    ...op.get(x),
    ...at(threshold, node(l), 3),
    ...op.f64Load(0),
    ...op.f64Le,
    ...op.eqz,
    ...op.get(x),
    ...op.get(x),
    ...op.f64Ne,
    ...at(nanLeft, node(l), 2),
    ...op.i32Load(0),
    ...op.and,
    ...op.xor,
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.i32Load(0),
    ...op.set(node(l))
  ]
  const walking = (l: number) => [...at(children, node(l), 3), ...op.i32Load(0), ...op.get(node(l)), ...op.ne]
  const start = (l: number) => [
    ...op.get(data),
    ...op.get(i),
    ...op.i32(l),
    ...op.add,
    ...op.get(cols),
    ...op.mul,
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.set(r(l)),
    ...op.get(root),
    ...op.set(node(l))
  ]
  const addLeaf = (l: number) => [
    ...op.get(out),
    ...op.get(i),
    ...op.i32(l),
    ...op.add,
    ...op.get(K),
    ...op.mul,
    ...op.get(k),
    ...op.add,
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.set(f),
    ...f64AddAt(f, [...at(value, node(l), 3), ...op.f64Load(0)])
  ]
  return {
    name: "predict",
    params: 13,
    locals: [
      [1 + 2 * L, I32],
      [1, I32],
      [1, F64]
    ],
    body: lockStep(L, i, lo, hi, { start, walking, step, finish: addLeaf })
  }
}

const fns = (): Array<Fn> => {
  const out: Array<Fn> = []
  for (const stride of [2, 3])
    for (let mode = 0; mode < 3; mode++)
      for (let nf = 1; nf <= 4; nf++) {
        const f = histogramFn(stride, mode, nf)
        if (out.length !== hgbHistogramExport(stride, mode, nf)) throw new Error("hgb-wasm: export order")
        out.push(f)
      }
  out.push(splitFn(false), splitFn(true), leafAddFn(), squaredErrorFn(), walkFn(4), predictFn(8))
  // exported as f0, f1, …: the kernel finds them by index
  return out.map((f, index) => ({ ...f, name: `f${index}` }))
}

/** The memory's largest size here (pages of 64 KiB): a shared memory is reserved at its maximum. */
const MAX_PAGES = 32_768

let compiled: WasmModule | null | undefined

/** The kernel's loops compiled (once per process); null where WebAssembly is not available. */
export const hgbWasmModule = (): WasmModule | null => {
  if (compiled === undefined) {
    try {
      const bytes = assemble(fns(), { minimum: 1, maximum: MAX_PAGES })
      compiled = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null
    } catch {
      compiled = null
    }
  }
  return compiled
}

type TypedCtor = new (
  buffer: ArrayBuffer | SharedArrayBuffer,
  byteOffset: number,
  length: number
) => {
  readonly byteLength: number
}

/**
 * Typed arrays of the given lengths laid out on one new shared WebAssembly.Memory (each zeroed, at a
 * 16-byte boundary), or null when there is no WebAssembly or they would not fit in MAX_PAGES.
 */
export const hgbArena = <K extends string>(
  layout: ReadonlyArray<readonly [K, TypedCtor & { readonly BYTES_PER_ELEMENT: number }, number]>,
  /** A memory of hgbArena's to lay them out on instead (grown as needed; its earlier views are then stale). */
  reuse?: WasmMemory
): { readonly memory: WasmMemory; readonly views: Record<K, unknown> } | null => {
  if (wasmApi === undefined || hgbWasmModule() === null) return null
  let bytes = 0
  const offsets: Array<number> = []
  for (const [, Ctor, length] of layout) {
    offsets.push(bytes)
    bytes += Math.max(16, Math.ceil((length * Ctor.BYTES_PER_ELEMENT) / 16) * 16)
  }
  const pages = Math.max(1, Math.ceil(bytes / 65_536))
  if (pages > MAX_PAGES) return null
  let memory: WasmMemory
  try {
    if (reuse === undefined) memory = new wasmApi.Memory({ initial: pages, maximum: MAX_PAGES, shared: true })
    else {
      memory = reuse
      const have = memory.buffer.byteLength / 65_536
      if (have < pages) memory.grow(pages - have)
      // (a zeroed arena: a reused one holds the last call's values)
      new Uint8Array(memory.buffer, 0, bytes).fill(0)
    }
  } catch {
    return null
  }
  const views = {} as Record<K, unknown>
  layout.forEach(([key, Ctor, length], j) => {
    views[key] = new Ctor(memory.buffer, offsets[j]!, length)
  })
  return { memory, views }
}
