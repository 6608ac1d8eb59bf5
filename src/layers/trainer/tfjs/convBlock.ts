// One conv block (conv + bias + ReLU + optional 2×2/2 pool) as a single differentiable op.
// tfjs composes its gradient from MaxPoolGrad, Step, Cast, Multiply, Sum and saves copies of
// every intermediate; here the forward is one FusedConv2D (XNNPACK fuses bias and ReLU) plus
// the pool, and the backward is one pass over memory (pool routing, ReLU mask and the bias sum
// together; on wasm a SIMD loop, wasmSimd.ts) followed by the two convolution gradients.
import type * as Tf from "@tensorflow/tfjs"
import { poolReluBiasGradSimd, simdKernelsFor, wasmMemoryOf } from "./wasmSimd.js"

type TfModule = typeof Tf
type TensorInfo = Tf.TensorInfo

export const POOL_RELU_BIAS_GRAD = "DriftgatePoolReluBiasGrad"

export type BlockPool = "max" | "avg" | "none"

export interface ConvBlockSpec {
  readonly strides: number
  readonly pad: "same" | "valid"
  readonly pool: BlockPool
}

// Typed-array access to a backend's tensors: the wasm heap or the cpu backend's arrays.
interface Io {
  alloc(shape: Array<number>): TensorInfo
  view(info: TensorInfo): Float32Array
}

const wasmIo = (backend: unknown): Io => {
  const b = backend as {
    makeOutput(shape: Array<number>, dtype: "float32"): TensorInfo
    typedArrayFromHeap(info: TensorInfo): Float32Array
  }
  return { alloc: (shape) => b.makeOutput(shape, "float32"), view: (info) => b.typedArrayFromHeap(info) }
}

const cpuIo = (backend: unknown): Io => {
  const b = backend as {
    makeTensorInfo(shape: Array<number>, dtype: "float32", values: Float32Array): TensorInfo
    readSync(dataId: object): Float32Array
  }
  return {
    alloc: (shape) => b.makeTensorInfo(shape, "float32", new Float32Array(shape.reduce((a, s) => a * s, 1))),
    view: (info) => b.readSync(info.dataId)
  }
}

/**
 * dy of the pooled output and y = relu(conv + bias) → [d(conv + bias), d(bias)].
 * Max pool: dy goes to the window's first maximum of y (as MaxPoolGrad), and only where y > 0
 * (the ReLU). Avg pool: dy/4 to every tap with y > 0. No pool: dy where y > 0.
 */
const poolReluBiasGrad =
  (io: (backend: unknown) => Io) =>
  (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Tf.NamedAttrMap }): Array<TensorInfo> => {
    const dyInfo = args.inputs["dy"]!
    const yInfo = args.inputs["y"]!
    const pool = (args.attrs?.["pool"] ?? "none") as BlockPool
    const [n, h, w, c] = yInfo.shape as [number, number, number, number]
    const a = io(args.backend)
    const dPreInfo = a.alloc([n, h, w, c])
    const dBiasInfo = a.alloc([c])
    // views only after every allocation: wasm's heap may grow and move
    const dy = a.view(dyInfo)
    const y = a.view(yInfo)
    const dPre = a.view(dPreInfo)
    const dBias = a.view(dBiasInfo)
    if (pool === "max" && c % 4 === 0) {
      const memory = wasmMemoryOf(args.backend)
      const kernels = memory === undefined ? undefined : simdKernelsFor(memory)
      if (kernels !== undefined) {
        // the same sums as the loop below, four channels at a time in wasm SIMD
        poolReluBiasGradSimd(kernels, y, dy, dPre, dBias, n, h, w, c)
        return [dPreInfo, dBiasInfo]
      }
    }
    dPre.fill(0)
    dBias.fill(0)
    if (pool === "none") {
      for (let p = 0; p < n * h * w; p++) {
        const o = p * c
        for (let d = 0; d < c; d++) {
          const g = dy[o + d]! * +(y[o + d]! > 0)
          dPre[o + d] = g
          dBias[d] = dBias[d]! + g
        }
      }
      return [dPreInfo, dBiasInfo]
    }
    const ho = Math.floor(h / 2)
    const wo = Math.floor(w / 2)
    let o = 0
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          const b0 = ((b * h + 2 * i) * w + 2 * j) * c
          const b1 = b0 + c
          const b2 = b0 + w * c
          const b3 = b2 + c
          if (pool === "max") {
            for (let d = 0; d < c; d++) {
              // first maximum in row-major order without data-dependent branches
              let m = y[b0 + d]!
              let k = b0 + d
              let v = y[b1 + d]!
              let gt = +(v > m)
              k += gt * (b1 - b0)
              m = Math.max(m, v)
              v = y[b2 + d]!
              gt = +(v > m)
              k += gt * (b2 + d - k)
              m = Math.max(m, v)
              v = y[b3 + d]!
              gt = +(v > m)
              k += gt * (b3 + d - k)
              m = Math.max(m, v)
              const g = dy[o + d]! * +(m > 0)
              dPre[k] = g
              dBias[d] = dBias[d]! + g
            }
          } else {
            for (let d = 0; d < c; d++) {
              const g = dy[o + d]! * 0.25
              let s = 0
              if (y[b0 + d]! > 0) {
                dPre[b0 + d] = g
                s += g
              }
              if (y[b1 + d]! > 0) {
                dPre[b1 + d] = g
                s += g
              }
              if (y[b2 + d]! > 0) {
                dPre[b2 + d] = g
                s += g
              }
              if (y[b3 + d]! > 0) {
                dPre[b3 + d] = g
                s += g
              }
              dBias[d] = dBias[d]! + s
            }
          }
          o += c
        }
      }
    }
    return [dPreInfo, dBiasInfo]
  }

/** Registers the fused backward kernel for `wasm` and `cpu` (idempotent). */
export const registerConvBlockKernels = (tf: TfModule): void => {
  for (const [backendName, io] of [
    ["wasm", wasmIo],
    ["cpu", cpuIo]
  ] as const) {
    if (tf.getKernel(POOL_RELU_BIAS_GRAD, backendName) !== undefined) continue
    tf.registerKernel({
      kernelName: POOL_RELU_BIAS_GRAD,
      backendName,
      kernelFunc: poolReluBiasGrad(io) as unknown as Tf.KernelFunc
    })
  }
}

/** Whether the active backend can run convBlock (else use the layers' own ops). */
export const convBlockSupported = (tf: TfModule): boolean =>
  tf.getKernel(POOL_RELU_BIAS_GRAD, tf.getBackend()) !== undefined

/**
 * relu(conv(x, filter) + bias), then the pool. `x` is differentiated only if `inputNeedsGrad`
 * (the first block's input is data: skipping its gradient saves a full backward convolution).
 */
export const convBlock = (
  tf: TfModule,
  x: Tf.Tensor4D,
  filter: Tf.Tensor4D,
  bias: Tf.Tensor1D,
  spec: ConvBlockSpec,
  inputNeedsGrad: boolean
): Tf.Tensor4D => {
  const attrs = {
    strides: [spec.strides, spec.strides],
    pad: spec.pad,
    dataFormat: "NHWC",
    dilations: [1, 1],
    activation: "relu"
  }
  const forward = (input: Tf.Tensor4D, f: Tf.Tensor4D, b: Tf.Tensor1D) => {
    const y = tf
      .engine()
      .runKernel("FusedConv2D", { x: input, filter: f, bias: b }, attrs as unknown as Tf.NamedAttrMap) as Tf.Tensor4D
    const z =
      spec.pool === "max" ? tf.maxPool(y, 2, 2, "valid") : spec.pool === "avg" ? tf.avgPool(y, 2, 2, "valid") : y
    return { y, z }
  }
  const backward = (dz: Tf.Tensor4D, input: Tf.Tensor4D, f: Tf.Tensor4D, y: Tf.Tensor4D) => {
    const [dPre, dBias] = tf.engine().runKernel(POOL_RELU_BIAS_GRAD, { dy: dz, y }, { pool: spec.pool }) as [
      Tf.Tensor4D,
      Tf.Tensor1D
    ]
    const dFilter = tf.engine().runKernel("Conv2DBackpropFilter", { x: input, dy: dPre }, {
      strides: attrs.strides,
      pad: spec.pad,
      dataFormat: "NHWC",
      filterShape: f.shape
    } as unknown as Tf.NamedAttrMap) as Tf.Tensor4D
    const dInput = inputNeedsGrad
      ? (tf.engine().runKernel("Conv2DBackpropInput", { dy: dPre, filter: f }, {
          strides: attrs.strides,
          pad: spec.pad,
          dataFormat: "NHWC",
          inputShape: input.shape
        } as unknown as Tf.NamedAttrMap) as Tf.Tensor4D)
      : undefined
    return { dInput, dFilter, dBias }
  }
  if (inputNeedsGrad) {
    const op = tf.customGrad(((input: Tf.Tensor, f: Tf.Tensor, b: Tf.Tensor, save: (ts: Array<Tf.Tensor>) => void) => {
      const { y, z } = forward(input as Tf.Tensor4D, f as Tf.Tensor4D, b as Tf.Tensor1D)
      save([input as Tf.Tensor4D, f as Tf.Tensor4D, y])
      return {
        value: z,
        gradFunc: (dz: Tf.Tensor, saved: Array<Tf.Tensor>) => {
          const g = backward(
            dz as Tf.Tensor4D,
            saved[0] as Tf.Tensor4D,
            saved[1] as Tf.Tensor4D,
            saved[2] as Tf.Tensor4D
          )
          return [g.dInput!, g.dFilter, g.dBias]
        }
      }
    }) as unknown as Parameters<TfModule["customGrad"]>[0])
    return op(x, filter, bias) as Tf.Tensor4D
  }
  const op = tf.customGrad(((f: Tf.Tensor, b: Tf.Tensor, save: (ts: Array<Tf.Tensor>) => void) => {
    const { y, z } = forward(x, f as Tf.Tensor4D, b as Tf.Tensor1D)
    save([f as Tf.Tensor4D, y])
    return {
      value: z,
      gradFunc: (dz: Tf.Tensor, saved: Array<Tf.Tensor>) => {
        const g = backward(dz as Tf.Tensor4D, x, saved[0] as Tf.Tensor4D, saved[1] as Tf.Tensor4D)
        return [g.dFilter, g.dBias]
      }
    }
  }) as unknown as Parameters<TfModule["customGrad"]>[0])
  return op(filter, bias) as Tf.Tensor4D
}
