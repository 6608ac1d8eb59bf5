// Two hot CNN gradient kernels as WebAssembly SIMD code that runs on the tfjs wasm backend's own
// heap (the module imports the backend's WebAssembly.Memory: no copy in or out), emitted here as
// bytes by a small assembler (no toolchain needed to build it):
//  - the weight gradient of a convolution (Conv2DBackpropFilter), accumulated per filter tap
//    straight from x and dy, without the filter re-pack XNNPACK does on every call when dy is
//    used as a convolution filter (~40% of a training step before),
//  - the 2×2/2 max pool + ReLU + bias backward of a conv block (convBlock.ts), four channels at
//    a time.
// Both sum in a fixed order (deterministic); the loops are in the comments above each emitter.

import {
  addTo,
  assemble,
  countDown,
  I32,
  op as scalar,
  uleb,
  V128,
  wasmApi,
  type Fn,
  type WasmMemory,
  type WasmModule
} from "../../../domain/wasm.js"

// ---- SIMD instructions on top of the shared assembler (domain/wasm.ts) ---------------------------

const simd = (op: number, ...imm: Array<number>) => [0xfd, ...uleb(op), ...imm]

/** Instructions (each a byte array). Locals are numbered: parameters first, then declared locals. */
const op = {
  ...scalar,
  // memarg: alignment exponent, then offset
  v128Load: (offset: number) => simd(0x00, 4, ...uleb(offset)),
  v128Load32Splat: (offset: number) => simd(0x09, 2, ...uleb(offset)),
  v128Store: (offset: number) => simd(0x0b, 4, ...uleb(offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  and: simd(0x4e),
  andNot: simd(0x4f),
  or: simd(0x50),
  f32x4Eq: simd(0x41),
  f32x4Gt: simd(0x44),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  f32x4Max: simd(0xe9)
}

// ---- Conv2DBackpropFilter, one block of filter entries ---------------------------------------

/**
 * filterGrad{cb}x{vb}(x, dy, out, n, rows, cols, xImg, xRow, xCol, dyImg, dyRow, dyCol, outRow):
 * for one filter tap, `cb` input channels and 4·`vb` output channels,
 *   acc[c][v] = Σ_img Σ_r<rows Σ_q<cols  x[img·xImg + r·xRow + q·xCol + 4c] · dy[img·dyImg + r·dyRow + q·dyCol + 16v .. +4]
 * (byte addresses; the caller points x and dy at the tap's first valid pixel), then
 * out[c·outRow + 16v] = acc[c][v]. Sum order: images, rows, columns, each in increasing order.
 */
const filterGradFn = (cb: number, vb: number): Fn => {
  const [x, dy, out, n, rows, cols, xImg, xRow, xCol, dyImg, dyRow, dyCol, outRow] = Array.from(
    { length: 13 },
    (_, i) => i
  )
  // i32 locals: img, r, q, xr, dr, xp, dp; v128: acc (cb·vb), s (cb), d (vb)
  const [img, r, q, xr, dr, xp, dp] = Array.from({ length: 7 }, (_, i) => 13 + i)
  const acc = (c: number, v: number) => 20 + c * vb + v
  const s = (c: number) => 20 + cb * vb + c
  const d = (v: number) => 20 + cb * vb + cb + v
  const inner: Array<number> = []
  for (let v = 0; v < vb; v++) inner.push(...op.get(dp), ...op.v128Load(16 * v), ...op.set(d(v)))
  for (let c = 0; c < cb; c++) inner.push(...op.get(xp), ...op.v128Load32Splat(4 * c), ...op.set(s(c)))
  for (let c = 0; c < cb; c++)
    for (let v = 0; v < vb; v++)
      inner.push(
        ...op.get(acc(c, v)),
        ...op.get(s(c)),
        ...op.get(d(v)),
        ...op.f32x4Mul,
        ...op.f32x4Add,
        ...op.set(acc(c, v))
      )
  inner.push(...addTo(xp, op.get(xCol)), ...addTo(dp, op.get(dyCol)))
  const body: Array<number> = []
  for (let c = 0; c < cb; c++) for (let v = 0; v < vb; v++) body.push(...op.v128Zero, ...op.set(acc(c, v)))
  body.push(...op.get(n), ...op.set(img))
  body.push(
    ...countDown(img, [
      ...op.get(x),
      ...op.set(xr),
      ...op.get(dy),
      ...op.set(dr),
      ...op.get(rows),
      ...op.set(r),
      ...countDown(r, [
        ...op.get(xr),
        ...op.set(xp),
        ...op.get(dr),
        ...op.set(dp),
        ...op.get(cols),
        ...op.set(q),
        ...countDown(q, inner),
        ...addTo(xr, op.get(xRow)),
        ...addTo(dr, op.get(dyRow))
      ]),
      ...addTo(x, op.get(xImg)),
      ...addTo(dy, op.get(dyImg))
    ])
  )
  for (let c = 0; c < cb; c++)
    for (let v = 0; v < vb; v++) {
      body.push(...op.get(out))
      if (c > 0) body.push(...op.get(outRow), ...op.i32(c), ...op.mul, ...op.add)
      body.push(...op.get(acc(c, v)), ...op.v128Store(16 * v))
    }
  return {
    name: `filterGrad${cb}x${vb}`,
    params: 13,
    locals: [
      [7, I32],
      [cb * vb + cb + vb, V128]
    ],
    body
  }
}

// ---- 2×2/2 max pool + ReLU + bias backward ---------------------------------------------------

/**
 * poolReluBiasGrad(y, dy, dPre, dBias, ho, wo, c4, rowBytes) for one image (byte addresses; y and
 * dPre are h×w×c, dy is ho×wo×c, c = 4·c4, rowBytes = w·c·4): for each window (i, j) and each
 * 4 channels, m = max of the window's 4 values of y; g = dy where m > 0 (the ReLU), else 0; g goes
 * to the window's first maximum in row-major order (the others get 0) and is added to dBias.
 * Rows 2·ho and columns 2·wo (odd h or w) are not written.
 */
const poolGradFn = (): Fn => {
  const [y, dy, dPre, dBias, ho, wo, c4, rowBytes] = Array.from({ length: 8 }, (_, i) => i)
  const [i, j, k, p, q, o, cBytes] = Array.from({ length: 7 }, (_, t) => 8 + t)
  // v128 locals
  const [y0, y1, y2, y3, m, e0, e1, e2, g, seen] = Array.from({ length: 10 }, (_, t) => 15 + t)
  const at = (corner: number) => {
    // address of the corner's value: p (top-left) + corner offsets
    const parts = [...op.get(p)]
    if (corner === 1 || corner === 3) parts.push(...op.get(cBytes), ...op.add)
    if (corner >= 2) parts.push(...op.get(rowBytes), ...op.add)
    return parts
  }
  const atOut = (corner: number) => {
    const parts = [...op.get(o)]
    if (corner === 1 || corner === 3) parts.push(...op.get(cBytes), ...op.add)
    if (corner >= 2) parts.push(...op.get(rowBytes), ...op.add)
    return parts
  }
  const channels = [
    ...at(0),
    ...op.v128Load(0),
    ...op.set(y0),
    ...at(1),
    ...op.v128Load(0),
    ...op.set(y1),
    ...at(2),
    ...op.v128Load(0),
    ...op.set(y2),
    ...at(3),
    ...op.v128Load(0),
    ...op.set(y3),
    ...op.get(y0),
    ...op.get(y1),
    ...op.f32x4Max,
    ...op.get(y2),
    ...op.get(y3),
    ...op.f32x4Max,
    ...op.f32x4Max,
    ...op.set(m),
    // g = dy & (m > 0)
    ...op.get(q),
    ...op.v128Load(0),
    ...op.get(m),
    ...op.v128Zero,
    ...op.f32x4Gt,
    ...op.and,
    ...op.set(g),
    // first maximum: e0 = y0 == m; e1 = (y1 == m) & ~e0; e2 = (y2 == m) & ~(e0|e1); rest to corner 3
    ...op.get(y0),
    ...op.get(m),
    ...op.f32x4Eq,
    ...op.tee(e0),
    ...op.set(seen),
    ...op.get(y1),
    ...op.get(m),
    ...op.f32x4Eq,
    ...op.get(seen),
    ...op.andNot,
    ...op.tee(e1),
    ...op.get(seen),
    ...op.or,
    ...op.set(seen),
    ...op.get(y2),
    ...op.get(m),
    ...op.f32x4Eq,
    ...op.get(seen),
    ...op.andNot,
    ...op.tee(e2),
    ...op.get(seen),
    ...op.or,
    ...op.set(seen),
    ...atOut(0),
    ...op.get(g),
    ...op.get(e0),
    ...op.and,
    ...op.v128Store(0),
    ...atOut(1),
    ...op.get(g),
    ...op.get(e1),
    ...op.and,
    ...op.v128Store(0),
    ...atOut(2),
    ...op.get(g),
    ...op.get(e2),
    ...op.and,
    ...op.v128Store(0),
    ...atOut(3),
    ...op.get(g),
    ...op.get(seen),
    ...op.andNot,
    ...op.v128Store(0),
    // dBias[channels] += g (dBias walks with k)
    ...op.get(dBias),
    ...op.get(c4),
    ...op.get(k),
    ...op.sub,
    ...op.i32(16),
    ...op.mul,
    ...op.add,
    ...op.get(dBias),
    ...op.get(c4),
    ...op.get(k),
    ...op.sub,
    ...op.i32(16),
    ...op.mul,
    ...op.add,
    ...op.v128Load(0),
    ...op.get(g),
    ...op.f32x4Add,
    ...op.v128Store(0),
    ...addTo(p, op.i32(16)),
    ...addTo(o, op.i32(16)),
    ...addTo(q, op.i32(16))
  ]
  const body = [
    ...op.get(dy),
    ...op.set(q),
    ...op.get(c4),
    ...op.i32(16),
    ...op.mul,
    ...op.set(cBytes),
    ...op.get(ho),
    ...op.set(i),
    ...countDown(i, [
      ...op.get(wo),
      ...op.set(j),
      ...countDown(j, [
        ...op.get(y),
        ...op.set(p),
        ...op.get(dPre),
        ...op.set(o),
        ...op.get(c4),
        ...op.set(k),
        ...countDown(k, channels),
        // next window: two columns to the right
        ...addTo(y, [...op.get(cBytes), ...op.i32(2), ...op.mul]),
        ...addTo(dPre, [...op.get(cBytes), ...op.i32(2), ...op.mul])
      ]),
      // next window row: y and dPre moved 2·wo columns; move on to two rows down
      ...addTo(y, [
        ...op.get(rowBytes),
        ...op.i32(2),
        ...op.mul,
        ...op.get(cBytes),
        ...op.get(wo),
        ...op.i32(2),
        ...op.mul,
        ...op.mul,
        ...op.sub
      ]),
      ...addTo(dPre, [
        ...op.get(rowBytes),
        ...op.i32(2),
        ...op.mul,
        ...op.get(cBytes),
        ...op.get(wo),
        ...op.i32(2),
        ...op.mul,
        ...op.mul,
        ...op.sub
      ])
    ])
  ]
  return {
    name: "poolReluBiasGrad",
    params: 8,
    locals: [
      [7, I32],
      [10, V128]
    ],
    body
  }
}

// ---- instances per wasm heap ----------------------------------------------------------------

type Kernel = (...args: Array<number>) => void

export interface SimdKernels {
  readonly filterGrad: Readonly<Record<"4x2" | "2x4" | "1x4" | "2x1" | "1x1", Kernel>>
  readonly poolReluBiasGrad: Kernel
}

export type { WasmMemory }
const wasm = wasmApi!

let compiled: WasmModule | null | undefined
const instances = new WeakMap<WasmMemory, SimdKernels>()

const moduleBytes = (): Uint8Array<ArrayBuffer> =>
  assemble([
    filterGradFn(4, 2),
    filterGradFn(2, 4),
    filterGradFn(1, 4),
    filterGradFn(2, 1),
    filterGradFn(1, 1),
    poolGradFn()
  ])

/** The kernels bound to `memory` (the wasm backend's heap); undefined where wasm SIMD is unavailable. */
export const simdKernelsFor = (memory: WasmMemory): SimdKernels | undefined => {
  if (compiled === undefined) {
    const bytes = moduleBytes()
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null
  }
  if (compiled === null) return undefined
  let k = instances.get(memory)
  if (k === undefined) {
    const e = new wasm.Instance(compiled, { m: { memory } }).exports as Record<string, Kernel>
    k = {
      filterGrad: {
        "4x2": e["filterGrad4x2"]!,
        "2x4": e["filterGrad2x4"]!,
        "1x4": e["filterGrad1x4"]!,
        "2x1": e["filterGrad2x1"]!,
        "1x1": e["filterGrad1x1"]!
      },
      poolReluBiasGrad: e["poolReluBiasGrad"]!
    }
    instances.set(memory, k)
  }
  return k
}

/** The wasm backend's heap, if `backend` is the tfjs wasm backend. */
export const wasmMemoryOf = (backend: unknown): WasmMemory | undefined => {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory
  return memory instanceof wasm.Memory ? memory : undefined
}

/**
 * dW (kh×kw×cin×cout, NHWC, dilation 1) into `out` from x (n×h×w×cin) and dy (n×ho×wo×cout);
 * every argument a Float32Array view of the heap the kernels are bound to. cout must be a multiple
 * of 4. Same sums as the definition dW[a,b,ci,co] = Σ x[n, i·sh+a−pt, j·sw+b−pl, ci]·dy[n,i,j,co].
 */
export const filterGradSimd = (
  k: SimdKernels,
  x: Float32Array,
  dy: Float32Array,
  out: Float32Array,
  g: {
    readonly n: number
    readonly h: number
    readonly w: number
    readonly cin: number
    readonly ho: number
    readonly wo: number
    readonly cout: number
    readonly kh: number
    readonly kw: number
    readonly sh: number
    readonly sw: number
    readonly pt: number
    readonly pl: number
  }
): void => {
  const { n, h, w, cin, ho, wo, cout, kh, kw, sh, sw, pt, pl } = g
  out.fill(0)
  const xImg = h * w * cin * 4
  const dyImg = ho * wo * cout * 4
  for (let a = 0; a < kh; a++) {
    // output rows i whose input row i·sh + a − pt lies inside [0, h)
    const i0 = Math.max(0, Math.ceil((pt - a) / sh))
    const i1 = Math.min(ho, Math.floor((h - 1 + pt - a) / sh) + 1)
    if (i1 <= i0) continue
    for (let b = 0; b < kw; b++) {
      const j0 = Math.max(0, Math.ceil((pl - b) / sw))
      const j1 = Math.min(wo, Math.floor((w - 1 + pl - b) / sw) + 1)
      if (j1 <= j0) continue
      const xTap = x.byteOffset + ((i0 * sh + a - pt) * w + (j0 * sw + b - pl)) * cin * 4
      const dyTap = dy.byteOffset + (i0 * wo + j0) * cout * 4
      const outTap = out.byteOffset + (a * kw + b) * cin * cout * 4
      for (let ci = 0; ci < cin;) {
        // 4 input × 8 output channels a pass where they divide (~15% faster than 2 × 16), else
        // 2 or 1 input × 16 or 4 output channels
        const cb = cin - ci >= 4 && cout % 8 === 0 ? 4 : cin - ci >= 2 ? 2 : 1
        for (let co = 0; co < cout;) {
          const vb = cb === 4 ? 2 : cout - co >= 16 ? 4 : 1
          k.filterGrad[`${cb}x${vb}` as keyof SimdKernels["filterGrad"]](
            xTap + ci * 4,
            dyTap + co * 4,
            outTap + (ci * cout + co) * 4,
            n,
            i1 - i0,
            j1 - j0,
            xImg,
            sh * w * cin * 4,
            sw * cin * 4,
            dyImg,
            wo * cout * 4,
            cout * 4,
            cout * 4
          )
          co += 4 * vb
        }
        ci += cb
      }
    }
  }
}

/**
 * The max-pool branch of DriftgatePoolReluBiasGrad over heap views: y and dPre n×h×w×c, dy
 * n×(h/2)×(w/2)×c (floor), dBias c; c a multiple of 4.
 */
export const poolReluBiasGradSimd = (
  k: SimdKernels,
  y: Float32Array,
  dy: Float32Array,
  dPre: Float32Array,
  dBias: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number
): void => {
  const ho = Math.floor(h / 2)
  const wo = Math.floor(w / 2)
  // odd h or w: the last row/column is in no window and gets no gradient
  if (h % 2 === 1 || w % 2 === 1) dPre.fill(0)
  dBias.fill(0)
  if (ho === 0 || wo === 0) return
  for (let b = 0; b < n; b++) {
    k.poolReluBiasGrad(
      y.byteOffset + b * h * w * c * 4,
      dy.byteOffset + b * ho * wo * c * 4,
      dPre.byteOffset + b * h * w * c * 4,
      dBias.byteOffset,
      ho,
      wo,
      c / 4,
      w * c * 4
    )
  }
}
