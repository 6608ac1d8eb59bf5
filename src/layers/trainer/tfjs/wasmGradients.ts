// Gradient kernels the tfjs `wasm` backend (4.22) lacks, built from its own fast forward
// kernels (XNNPACK Conv2D, Transpose, Reverse, PadV2, Slice) so that convolutions can train.
//
// Missing in 4.22 (versus `cpu`): Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
// DepthwiseConv2dNativeBackpropInput (plus FFT/complex/ragged/string kernels irrelevant here).
// Present: Conv2DBackpropInput (a scalar C++ loop, slow: replaced below by an XNNPACK
// convolution), MaxPoolGrad, AvgPoolGrad, Step (ReLU's gradient is dy * step(x)).
import type * as Tf from "@tensorflow/tfjs"
import { filterGradSimd, simdKernelsFor, wasmMemoryOf } from "./wasmSimd.js"

type TfModule = typeof Tf
type TensorInfo = Tf.TensorInfo
type NamedAttrMap = Tf.NamedAttrMap
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]]

interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean
  makeOutput(shape: Array<number>, dtype: "float32"): TensorInfo
  /** A view of the tensor's bytes in the wasm heap: valid until the next allocation. */
  typedArrayFromHeap(info: TensorInfo): Float32Array
}

/** Which of the kernels this module provides were absent from `wasm` before registration. */
export interface WasmGradientReport {
  readonly missingBefore: ReadonlyArray<string>
  readonly registered: ReadonlyArray<string>
  readonly replaced: ReadonlyArray<string>
}

const providedKernels = [
  "Conv2DBackpropFilter",
  "DepthwiseConv2dNativeBackpropFilter",
  "DepthwiseConv2dNativeBackpropInput"
] as const
// Present in wasm but slow (scalar C++ loops): replaced by XNNPACK convolutions, JS loops over
// the heap, or the XNNPACK matmul path after an explicit transpose.
const replacedKernels = ["Conv2DBackpropInput", "MaxPoolGrad", "AvgPoolGrad", "BatchMatMul", "_FusedMatMul"] as const

const run = (
  tf: TfModule,
  name: string,
  backend: WasmBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap
): TensorInfo => {
  // the backend running us (wasm, or cpu for the Conv2DBackpropFilter registered there too)
  const backendName = tf.getBackend()
  const kernel = tf.getKernel(name, backendName)
  if (kernel === undefined) throw new Error(`${backendName} backend has no ${name} kernel`)
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo
}

const free = (backend: WasmBackendLike, ...infos: ReadonlyArray<TensorInfo>): void => {
  for (const info of infos) backend.disposeData(info.dataId)
}

const transpose = (tf: TfModule, backend: WasmBackendLike, x: TensorInfo, perm: ReadonlyArray<number>) =>
  run(tf, "Transpose", backend, { x }, { perm: [...perm] })

const slice = (
  tf: TfModule,
  backend: WasmBackendLike,
  x: TensorInfo,
  begin: ReadonlyArray<number>,
  size: ReadonlyArray<number>
) => run(tf, "Slice", backend, { x }, { begin: [...begin], size: [...size] })

const convInfoOf = (
  tf: TfModule,
  inShape: ReadonlyArray<number>,
  filterShape: ReadonlyArray<number>,
  attrs: NamedAttrMap,
  depthwise: boolean
) => {
  const dataFormat = (attrs["dataFormat"] as string | undefined) ?? "NHWC"
  if (dataFormat !== "NHWC") throw new Error(`driftgate's gradient kernels support NHWC only, got ${dataFormat}`)
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs["strides"] as [number, number] | number,
    (attrs["dilations"] as [number, number] | number | undefined) ?? 1,
    attrs["pad"] as "same" | "valid" | number | ExplicitPadding,
    attrs["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
    depthwise,
    "channelsLast"
  )
}

/**
 * dW[kh,kw,ci,co] = Σ_{n,i,j} x[n, i·s+kh−pt, j·s+kw−pl, ci] · dy[n,i,j,co].
 * On wasm with SIMD (cout a multiple of 4): wasmSimd.ts's loop over the heap. Otherwise it
 * is a forward convolution of xᵀ = [Cin, H, W, N] (channels as the batch, batch as the
 * channels) with the filter dyᵀ = [Ho, Wo, N, Cout], dilated by the stride: → [Cin, KH, KW, Cout].
 */
const conv2DBackpropFilter =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const attrs = args.attrs ?? {}
    const x = args.inputs["x"]!
    const dy = args.inputs["dy"]!
    const filterShape = attrs["filterShape"] as [number, number, number, number]
    const info = convInfoOf(tf, x.shape, filterShape, attrs, false)
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
    const { inHeight: h, inWidth: w, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout } = info
    const pt = info.padInfo.top
    const pl = info.padInfo.left
    const memory = wasmMemoryOf(backend)
    const kernels = memory === undefined ? undefined : simdKernelsFor(memory)
    if (kernels !== undefined && cout % 4 === 0 && info.dilationHeight === 1 && info.dilationWidth === 1) {
      // wasm SIMD straight from x and dy on the heap (no transposes, no filter re-pack)
      const out = backend.makeOutput([...filterShape], "float32")
      // views after the allocation: makeOutput may grow (and move) the heap
      const dims = { n: x.shape[0]!, h, w, cin, ho, wo, cout, kh, kw, sh, sw, pt, pl }
      filterGradSimd(
        kernels,
        backend.typedArrayFromHeap(x),
        backend.typedArrayFromHeap(dy),
        backend.typedArrayFromHeap(out),
        dims
      )
      return out
    }
    // rows/cols of the (padded) input the filter actually touches
    const needH = kh + sh * (ho - 1)
    const needW = kw + sw * (wo - 1)
    let pb = needH - pt - h
    let pr = needW - pl - w
    let xT = transpose(tf, backend, x, [3, 1, 2, 0])
    if (pb < 0 || pr < 0) {
      // 'valid' with a stride that leaves trailing rows unused: crop them (padding can't be negative)
      const cropH = h + Math.min(pb, 0)
      const cropW = w + Math.min(pr, 0)
      const cropped = slice(tf, backend, xT, [0, 0, 0, 0], [cin, cropH, cropW, x.shape[0]!])
      free(backend, xT)
      xT = cropped
      pb = Math.max(pb, 0)
      pr = Math.max(pr, 0)
    }
    const dyT = transpose(tf, backend, dy, [1, 2, 0, 3])
    const pad: ExplicitPadding = [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0]
    ]
    const conv = run(
      tf,
      "Conv2D",
      backend,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad,
        dilations: [sh, sw],
        dataFormat: "NHWC",
        dimRoundingMode: undefined as never
      }
    )
    free(backend, xT, dyT)
    if (conv.shape[1] !== kh || conv.shape[2] !== kw || conv.shape[3] !== cout) {
      free(backend, conv)
      throw new Error(`Conv2DBackpropFilter: internal shape mismatch ${conv.shape} for filter ${filterShape}`)
    }
    const out = transpose(tf, backend, conv, [1, 2, 0, 3])
    free(backend, conv)
    return out
  }

/** Inserts (s−1) zeros between rows/cols of dy: [N,Ho,Wo,C] → [N,(Ho−1)s+1,(Wo−1)s+1,C]. */
const dilateSpatial = (tf: TfModule, backend: WasmBackendLike, dy: TensorInfo, sh: number, sw: number): TensorInfo => {
  if (sh === 1 && sw === 1) return run(tf, "Identity", backend, { x: dy }, {})
  const [n, ho, wo, c] = dy.shape as [number, number, number, number]
  const r6 = run(tf, "Reshape", backend, { x: dy }, { shape: [n, ho, 1, wo, 1, c] })
  const padded = run(
    tf,
    "PadV2",
    backend,
    { x: r6 },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0]
      ],
      constantValue: 0
    }
  )
  free(backend, r6)
  const r4 = run(tf, "Reshape", backend, { x: padded }, { shape: [n, ho * sh, wo * sw, c] })
  free(backend, padded)
  const out = slice(tf, backend, r4, [0, 0, 0, 0], [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, c])
  free(backend, r4)
  return out
}

/**
 * dx = conv(dilate(dy, s), rot180(W) with in/out swapped), padded by (k−1−p) before and
 * whatever makes the output H×W after: the transposed convolution as a forward one.
 */
const conv2DBackpropInput =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const attrs = args.attrs ?? {}
    const dy = args.inputs["dy"]!
    const filter = args.inputs["filter"]!
    const inputShape = attrs["inputShape"] as [number, number, number, number]
    const info = convInfoOf(tf, inputShape, filter.shape, attrs, false)
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
    const { inHeight: h, inWidth: w } = info
    const dyD = dilateSpatial(tf, backend, dy, sh, sw)
    const dh = dyD.shape[1]!
    const dw = dyD.shape[2]!
    const padT = kh - 1 - info.padInfo.top
    const padL = kw - 1 - info.padInfo.left
    // bottom/right: output rows = dh + padT + padB − kh + 1 must equal h
    const padB = h - dh - padT + kh - 1
    const padR = w - dw - padL + kw - 1
    const rev = run(tf, "Reverse", backend, { x: filter }, { dims: [0, 1] })
    const flt = transpose(tf, backend, rev, [0, 1, 3, 2])
    free(backend, rev)
    let src = dyD
    let [pt, pb, pl, pr] = [padT, padB, padL, padR]
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0) {
      // 'same'/explicit paddings larger than k−1 give negative pads: crop dy instead
      const top = Math.max(-pt, 0)
      const left = Math.max(-pl, 0)
      const cropped = slice(
        tf,
        backend,
        dyD,
        [0, top, left, 0],
        [dyD.shape[0]!, dh - top - Math.max(-pb, 0), dw - left - Math.max(-pr, 0), dyD.shape[3]!]
      )
      free(backend, dyD)
      src = cropped
      ;[pt, pb, pl, pr] = [Math.max(pt, 0), Math.max(pb, 0), Math.max(pl, 0), Math.max(pr, 0)]
    }
    const out = run(
      tf,
      "Conv2D",
      backend,
      { x: src, filter: flt },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0]
        ] as ExplicitPadding,
        dilations: [1, 1],
        dataFormat: "NHWC",
        dimRoundingMode: undefined as never
      }
    )
    free(backend, src, flt)
    return out
  }

/**
 * Depthwise gradients (not used by the trainer, registered so depthwise models can train):
 * dW via the per-channel product of shifted input windows and dy, reduced over n,i,j.
 * Written with forward kernels: one Conv2D per channel would be slow, so this uses
 * Multiply/Sum over a strided slice per filter tap (kh·kw taps, each O(N·Ho·Wo·C)).
 */
const depthwiseBackpropFilter =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const attrs = args.attrs ?? {}
    const x = args.inputs["x"]!
    const dy = args.inputs["dy"]!
    const filterShape = attrs["filterShape"] as [number, number, number, number]
    const info = convInfoOf(tf, x.shape, filterShape, attrs, true)
    const {
      strideHeight: sh,
      strideWidth: sw,
      filterHeight: kh,
      filterWidth: kw,
      dilationHeight: dh,
      dilationWidth: dw
    } = info
    const { outHeight: ho, outWidth: wo, inChannels: cin } = info
    const mult = filterShape[3]
    const [n, h, w] = x.shape as [number, number, number, number]
    const pt = info.padInfo.top
    const pl = info.padInfo.left
    const needH = (kh - 1) * dh + sh * (ho - 1) + 1
    const needW = (kw - 1) * dw + sw * (wo - 1) + 1
    const xp = run(
      tf,
      "PadV2",
      backend,
      { x },
      {
        paddings: [
          [0, 0],
          [pt, Math.max(needH - pt - h, 0)],
          [pl, Math.max(needW - pl - w, 0)],
          [0, 0]
        ],
        constantValue: 0
      }
    )
    // dy: [N,Ho,Wo,Cin*mult] → [N,Ho,Wo,Cin,mult]
    const dy5 = run(tf, "Reshape", backend, { x: dy }, { shape: [n, ho, wo, cin, mult] })
    const taps: Array<TensorInfo> = []
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const win = run(
          tf,
          "StridedSlice",
          backend,
          { x: xp },
          {
            begin: [0, a * dh, b * dw, 0],
            end: [n, a * dh + sh * (ho - 1) + 1, b * dw + sw * (wo - 1) + 1, cin],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0
          }
        )
        const win5 = run(tf, "Reshape", backend, { x: win }, { shape: [n, ho, wo, cin, 1] })
        const prod = run(tf, "Multiply", backend, { a: win5, b: dy5 }, {})
        const sum = run(tf, "Sum", backend, { x: prod }, { axis: [0, 1, 2], keepDims: false })
        free(backend, win, win5, prod)
        taps.push(sum)
      }
    }
    const packed = run(tf, "Pack", backend, taps as never, { axis: 0 }) // Pack takes an array of inputs
    free(backend, xp, dy5, ...taps)
    const out = run(tf, "Reshape", backend, { x: packed }, { shape: [kh, kw, cin, mult] })
    free(backend, packed)
    return out
  }

/** dx of a depthwise conv: per tap, scatter dy·W back with a strided pad; summed. */
const depthwiseBackpropInput =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const attrs = args.attrs ?? {}
    const dy = args.inputs["dy"]!
    const filter = args.inputs["filter"]!
    const inputShape = attrs["inputShape"] as [number, number, number, number]
    const info = convInfoOf(tf, inputShape, filter.shape, attrs, true)
    const {
      strideHeight: sh,
      strideWidth: sw,
      filterHeight: kh,
      filterWidth: kw,
      dilationHeight: dh,
      dilationWidth: dw
    } = info
    const { outHeight: ho, outWidth: wo, inChannels: cin } = info
    const mult = filter.shape[3]!
    const [n, h, w] = inputShape
    const pt = info.padInfo.top
    const pl = info.padInfo.left
    const fullH = Math.max((kh - 1) * dh + sh * (ho - 1) + 1, pt + h)
    const fullW = Math.max((kw - 1) * dw + sw * (wo - 1) + 1, pl + w)
    const dyD = dilateSpatial(tf, backend, dy, sh, sw)
    let acc: TensorInfo | undefined
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const wTap = slice(tf, backend, filter, [a, b, 0, 0], [1, 1, cin, mult])
        const w5 = run(tf, "Reshape", backend, { x: wTap }, { shape: [1, 1, 1, cin, mult] })
        const d5 = run(tf, "Reshape", backend, { x: dyD }, { shape: [n, dyD.shape[1]!, dyD.shape[2]!, cin, mult] })
        const prod = run(tf, "Multiply", backend, { a: d5, b: w5 }, {})
        const summed = run(tf, "Sum", backend, { x: prod }, { axis: [4], keepDims: false })
        const placed = run(
          tf,
          "PadV2",
          backend,
          { x: summed },
          {
            paddings: [
              [0, 0],
              [a * dh, fullH - a * dh - dyD.shape[1]!],
              [b * dw, fullW - b * dw - dyD.shape[2]!],
              [0, 0]
            ],
            constantValue: 0
          }
        )
        free(backend, wTap, w5, d5, prod, summed)
        if (acc === undefined) acc = placed
        else {
          const next = run(tf, "Add", backend, { a: acc, b: placed }, {})
          free(backend, acc, placed)
          acc = next
        }
      }
    }
    free(backend, dyD)
    const out = slice(tf, backend, acc!, [0, pt, pl, 0], [n, h, w, cin])
    free(backend, acc!)
    return out
  }

type PoolAttrs = {
  filterSize: [number, number] | number
  strides: [number, number] | number
  pad: "same" | "valid" | number
  dimRoundingMode?: "floor" | "round" | "ceil"
}

const poolInfoOf = (tf: TfModule, shape: ReadonlyArray<number>, attrs: NamedAttrMap) => {
  const a = attrs as unknown as PoolAttrs
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode
  )
}

/**
 * Max-pool gradient as a JS loop over the wasm heap (the C++ kernel took ~20 ms for one
 * 64×32×32×16 batch, more than the convolutions). dy goes to the first maximum of each
 * window in row-major order, as in the `cpu` backend.
 */
const maxPoolGrad =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const input = args.inputs["input"]!
    const dyInfo = args.inputs["dy"]!
    const info = poolInfoOf(tf, input.shape, args.attrs ?? {})
    const out = backend.makeOutput([...input.shape], "float32")
    // views after the allocation: makeOutput may grow (and move) the heap
    const x = backend.typedArrayFromHeap(input)
    const dy = backend.typedArrayFromHeap(dyInfo)
    const dx = backend.typedArrayFromHeap(out)
    dx.fill(0)
    const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info
    const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info
    const pt = info.padInfo.top
    const pl = info.padInfo.left
    if (
      fh === 2 &&
      fw === 2 &&
      sh === 2 &&
      sw === 2 &&
      dh === 1 &&
      dw === 1 &&
      pt === 0 &&
      pl === 0 &&
      ho * 2 <= h &&
      wo * 2 <= w
    ) {
      maxPoolGrad2x2(x, dy, dx, batchSize, h, w, c, ho, wo)
      return out
    }
    // the window's in-bounds taps (offsets of their first channel), then channel by channel
    const taps = new Int32Array(Math.ceil(fh / dh) * Math.ceil(fw / dw))
    let o = 0
    for (let b = 0; b < batchSize; b++) {
      for (let i = 0; i < ho; i++) {
        const r0 = i * sh - pt
        for (let j = 0; j < wo; j++) {
          const c0 = j * sw - pl
          let nt = 0
          for (let r = r0; r < r0 + fh; r += dh) {
            if (r < 0 || r >= h) continue
            for (let q = c0; q < c0 + fw; q += dw) {
              if (q >= 0 && q < w) taps[nt++] = ((b * h + r) * w + q) * c
            }
          }
          for (let d = 0; d < c; d++) {
            let best = Number.NEGATIVE_INFINITY
            let at = -1
            for (let t = 0; t < nt; t++) {
              const k = taps[t]! + d
              const v = x[k]!
              if (v > best) {
                best = v
                at = k
              }
            }
            if (at >= 0) dx[at] = dx[at]! + dy[o + d]!
          }
          o += c
        }
      }
    }
    return out
  }

/** The common 2×2/2 'valid' case without branches on the data (mispredictions cost ~2×). */
const maxPoolGrad2x2 = (
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  ho: number,
  wo: number
): void => {
  let o = 0
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const b0 = ((b * h + 2 * i) * w + 2 * j) * c
        const b1 = b0 + c
        const b2 = b0 + w * c
        const b3 = b2 + c
        for (let d = 0; d < c; d++) {
          // first maximum in row-major order, as `cpu` (strict > keeps the earlier tap on ties;
          // NaN windows differ, and do not matter)
          let m = x[b0 + d]!
          let k = b0 + d
          let v = x[b1 + d]!
          let g = +(v > m)
          k += g * (b1 - b0)
          m = Math.max(m, v)
          v = x[b2 + d]!
          g = +(v > m)
          k += g * (b2 + d - k)
          m = Math.max(m, v)
          v = x[b3 + d]!
          g = +(v > m)
          k += g * (b3 + d - k)
          dx[k] = dx[k]! + dy[o + d]!
        }
        o += c
      }
    }
  }
}

/** Average-pool gradient over the heap; like `cpu`, every tap gets dy / (fh·fw). */
const avgPoolGrad =
  (tf: TfModule) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const backend = args.backend as WasmBackendLike
    const input = args.inputs["input"]!
    const dyInfo = args.inputs["dy"]!
    const info = poolInfoOf(tf, input.shape, args.attrs ?? {})
    const out = backend.makeOutput([...input.shape], "float32")
    const dy = backend.typedArrayFromHeap(dyInfo)
    const dx = backend.typedArrayFromHeap(out)
    dx.fill(0)
    const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info
    const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info
    const scale = 1 / (info.filterHeight * info.filterWidth)
    const pt = info.padInfo.top
    const pl = info.padInfo.left
    let o = 0
    for (let b = 0; b < batchSize; b++) {
      for (let i = 0; i < ho; i++) {
        const r0 = i * sh - pt
        for (let j = 0; j < wo; j++) {
          const c0 = j * sw - pl
          for (let r = r0; r < r0 + fh; r += dh) {
            if (r < 0 || r >= h) continue
            for (let q = c0; q < c0 + fw; q += dw) {
              if (q < 0 || q >= w) continue
              const base = ((b * h + r) * w + q) * c
              for (let d = 0; d < c; d++) dx[base + d] = dx[base + d]! + dy[o + d]! * scale
            }
          }
          o += c
        }
      }
    }
    return out
  }

/**
 * wasm's BatchMatMul/_FusedMatMul run a scalar loop when transposeA or transposeB is set
 * (every dense-layer gradient does): transpose explicitly (cheap) and call the XNNPACK path.
 */
const untransposedMatMul =
  (tf: TfModule, original: Tf.KernelFunc) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const attrs = args.attrs ?? {}
    const transposeA = attrs["transposeA"] === true
    const transposeB = attrs["transposeB"] === true
    if (!transposeA && !transposeB) return original(args as never) as TensorInfo
    const backend = args.backend as WasmBackendLike
    const swapLast = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i)
      const n = perm.length
      ;[perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!]
      return transpose(tf, backend, t, perm)
    }
    const a = transposeA ? swapLast(args.inputs["a"]!) : args.inputs["a"]!
    const b = transposeB ? swapLast(args.inputs["b"]!) : args.inputs["b"]!
    const out = original({
      ...args,
      inputs: { ...args.inputs, a, b },
      attrs: { ...attrs, transposeA: false, transposeB: false }
    } as never) as TensorInfo
    if (transposeA) free(backend, a)
    if (transposeB) free(backend, b)
    return out
  }

/**
 * Registers the missing wasm gradient kernels (and the faster Conv2DBackpropInput).
 * Idempotent; call after importing `@tensorflow/tfjs-backend-wasm`, before training.
 */
type Marked = Tf.KernelFunc & { driftgate?: boolean }

export const registerWasmGradients = (tf: TfModule): WasmGradientReport => {
  const missingBefore = providedKernels.filter((name) => tf.getKernel(name, "wasm") === undefined)
  const registered: Array<string> = []
  const register = (kernelName: string, kernelFunc: (args: never) => TensorInfo) => {
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as Tf.KernelFunc })
    registered.push(kernelName)
  }
  const table: Record<string, (tf: TfModule) => (args: never) => TensorInfo> = {
    Conv2DBackpropFilter: conv2DBackpropFilter,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput
  }
  for (const name of missingBefore) register(name, table[name]!(tf))
  const replaced: Array<string> = []
  for (const name of replacedKernels) {
    const current = tf.getKernel(name, "wasm")
    if (current === undefined) continue
    if ((current.kernelFunc as Marked).driftgate === true) continue
    const fn: Marked =
      name === "Conv2DBackpropInput"
        ? (conv2DBackpropInput(tf) as unknown as Marked)
        : name === "MaxPoolGrad"
          ? (maxPoolGrad(tf) as unknown as Marked)
          : name === "AvgPoolGrad"
            ? (avgPoolGrad(tf) as unknown as Marked)
            : (untransposedMatMul(tf, current.kernelFunc) as unknown as Marked)
    fn.driftgate = true
    tf.unregisterKernel(name, "wasm")
    // keep the original setupFunc: the matmul wrappers call the original kernel, whose cwrap
    // bindings are made there when the backend initialises
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: fn,
      ...(current.setupFunc === undefined ? {} : { setupFunc: current.setupFunc })
    })
    replaced.push(name)
  }
  return { missingBefore, registered, replaced }
}

/**
 * The `cpu` backend's own Conv2DBackpropFilter is its slowest kernel by far (≈ 94% of a CNN
 * step, ≈ 2 images/s); the same transposed forward convolution on cpu's Conv2D is ≈ 70× faster.
 * Registered by selectTfBackend("cpu"); idempotent. Returns whether it replaced the kernel now.
 */
export const registerCpuConvBackpropFilter = (tf: TfModule): boolean => {
  const current = tf.getKernel("Conv2DBackpropFilter", "cpu")
  if (current !== undefined && (current.kernelFunc as Marked).driftgate === true) return false
  const fn = conv2DBackpropFilter(tf) as unknown as Marked
  fn.driftgate = true
  if (current !== undefined) tf.unregisterKernel("Conv2DBackpropFilter", "cpu")
  tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "cpu", kernelFunc: fn })
  return true
}
