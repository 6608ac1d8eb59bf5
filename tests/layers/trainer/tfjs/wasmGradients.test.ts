import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { selectTfBackend, type TfBackendInfo } from "../../../../src/layers/trainer/tfjs/backend.js"
import { buildCnn, cnnLogits, type CnnArch } from "../../../../src/layers/trainer/tfjs/cnn.js"
import { POOL_RELU_BIAS_GRAD } from "../../../../src/layers/trainer/tfjs/convBlock.js"

// Every gradient the wasm backend computes with our kernels, against the pure-JS `cpu` backend.

let info: TfBackendInfo

beforeAll(async () => {
  info = await selectTfBackend("wasm")
})

const values = (shape: Array<number>, seed: number, round = false): Float32Array => {
  const t = tf.tidy(() => {
    const r = tf.randomNormal(shape, 0, 1, "float32", seed)
    // rounded inputs make exact ties, so pooling's tie-breaking is exercised too
    return round ? r.mul(2).round() : r
  })
  const v = t.dataSync() as Float32Array
  t.dispose()
  return v.slice()
}

/** Gradients of sum(f(inputs)²) on one backend, as plain arrays. */
const gradsOn = (
  backend: string,
  shapes: Array<Array<number>>,
  data: Array<Float32Array>,
  f: (...xs: Array<tf.Tensor>) => tf.Tensor
): Array<Float32Array> => {
  void tf.setBackend(backend)
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(data[i]!, s))
    const g = tf.grads((...args: Array<tf.Tensor>) =>
      f(...args)
        .square()
        .sum()
    )(xs)
    return g.map((t) => (t.dataSync() as Float32Array).slice())
  })
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
const maxDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** wasm vs cpu: max |diff| ≤ 1e-4 · max(1, max |cpu|) for every input's gradient. */
const expectSameGrads = (shapes: Array<Array<number>>, f: (...xs: Array<tf.Tensor>) => tf.Tensor, round = false) => {
  const data = shapes.map((s, i) => values(s, 11 + i, round))
  const cpu = gradsOn("cpu", shapes, data, f)
  const wasm = gradsOn("wasm", shapes, data, f)
  cpu.forEach((g, i) => {
    expect(maxAbs(g)).toBeGreaterThan(0)
    expect(maxDiff(g, wasm[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(g)))
  })
}

describe("wasm backend set-up", () => {
  it("reports itself and has every gradient kernel the CNN needs", () => {
    expect(info.name).toBe("wasm")
    expect(info.provider).toBe("@tensorflow/tfjs-backend-wasm")
    expect(info.threads).toBe(1)
    for (const k of [
      "Conv2DBackpropFilter",
      "Conv2DBackpropInput",
      "MaxPoolGrad",
      "AvgPoolGrad",
      "DepthwiseConv2dNativeBackpropFilter",
      "DepthwiseConv2dNativeBackpropInput",
      POOL_RELU_BIAS_GRAD
    ]) {
      expect(tf.getKernel(k, "wasm"), k).toBeDefined()
    }
    expect(info.gradients?.replaced).toEqual([
      "Conv2DBackpropInput",
      "MaxPoolGrad",
      "AvgPoolGrad",
      "BatchMatMul",
      "_FusedMatMul"
    ])
  })

  it("selecting again is idempotent and 'auto' falls through to wasm without tfjs-node", async () => {
    const again = await selectTfBackend("auto")
    expect(again.name).toBe("wasm")
    expect(again.skipped.some((s) => s.startsWith("@tensorflow/tfjs-node"))).toBe(true)
  })
})

describe("conv2d gradients (dx and dW) match cpu", () => {
  const cases: Array<{
    x: [number, number, number, number]
    k: number
    cout: number
    stride: number
    pad: "same" | "valid"
  }> = [
    { x: [2, 7, 7, 3], k: 3, cout: 4, stride: 1, pad: "same" },
    { x: [2, 7, 7, 3], k: 3, cout: 4, stride: 2, pad: "same" },
    { x: [2, 8, 8, 3], k: 3, cout: 5, stride: 2, pad: "same" },
    { x: [2, 7, 7, 3], k: 3, cout: 4, stride: 1, pad: "valid" },
    { x: [2, 7, 7, 3], k: 3, cout: 4, stride: 2, pad: "valid" },
    { x: [2, 8, 8, 1], k: 2, cout: 6, stride: 2, pad: "valid" },
    { x: [3, 9, 6, 5], k: 5, cout: 2, stride: 2, pad: "same" },
    { x: [1, 5, 5, 2], k: 2, cout: 3, stride: 3, pad: "same" },
    { x: [4, 6, 6, 16], k: 1, cout: 8, stride: 1, pad: "valid" },
    { x: [2, 10, 10, 8], k: 3, cout: 16, stride: 1, pad: "same" },
    // wasm SIMD weight gradient (cout a multiple of 4): 16-wide and 4-wide channel blocks, odd
    // input channels, taps cut by 'same' padding and strides
    { x: [2, 9, 8, 5], k: 3, cout: 20, stride: 2, pad: "valid" },
    { x: [2, 8, 8, 16], k: 5, cout: 32, stride: 1, pad: "same" },
    { x: [1, 7, 9, 3], k: 3, cout: 12, stride: 3, pad: "same" }
  ]
  for (const c of cases) {
    it(`x ${c.x.join("×")}, ${c.k}×${c.k}→${c.cout}, stride ${c.stride}, ${c.pad}`, () => {
      expectSameGrads([c.x, [c.k, c.k, c.x[3], c.cout]], (x, w) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad)
      )
    })
  }
  it("the fused conv (bias + relu) used by layers", () => {
    expectSameGrads([[2, 6, 6, 3], [3, 3, 3, 4], [4]], (x, w, b) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: w as tf.Tensor4D,
        bias: b!,
        strides: 1,
        pad: "same",
        activation: "relu"
      })
    )
  })
})

describe("pooling gradients match cpu, ties included", () => {
  const cases: Array<{ x: [number, number, number, number]; size: number; stride: number; pad: "same" | "valid" }> = [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: "valid" },
    { x: [2, 7, 7, 4], size: 2, stride: 2, pad: "valid" },
    { x: [2, 7, 7, 4], size: 2, stride: 2, pad: "same" },
    { x: [2, 7, 9, 4], size: 3, stride: 2, pad: "same" },
    { x: [1, 6, 6, 2], size: 3, stride: 1, pad: "valid" }
  ]
  for (const c of cases) {
    it(`max ${c.size}/${c.stride} ${c.pad} on ${c.x.join("×")}`, () => {
      expectSameGrads([c.x], (x) => tf.maxPool(x as tf.Tensor4D, c.size, c.stride, c.pad), true)
    })
    it(`avg ${c.size}/${c.stride} ${c.pad} on ${c.x.join("×")}`, () => {
      expectSameGrads([c.x], (x) => tf.avgPool(x as tf.Tensor4D, c.size, c.stride, c.pad), true)
    })
  }
})

describe("the fused pool + ReLU + bias backward (convBlock.ts)", () => {
  // wasm runs it as SIMD code four channels at a time (max pool, channels a multiple of 4), cpu
  // as the JS loop: the same sums in the same order, so the results are identical bit for bit
  const cases: Array<[number, number, number, number]> = [
    [2, 6, 6, 8],
    [3, 7, 5, 12],
    [1, 2, 3, 4],
    [2, 4, 4, 6]
  ]
  for (const shape of cases) {
    it(`max pool on ${shape.join("×")}: wasm = cpu exactly, ties and zeros included`, () => {
      const [n, h, w, c] = shape
      // rounded values: exact ties inside windows; relu: zeros (no gradient through the ReLU)
      const y = values(shape, 5, true).map((v) => Math.max(v, 0))
      const dy = values([n, Math.floor(h / 2), Math.floor(w / 2), c], 6)
      const on = (backend: string) => {
        void tf.setBackend(backend)
        return tf.tidy(() => {
          const out = tf
            .engine()
            .runKernel(
              POOL_RELU_BIAS_GRAD,
              { dy: tf.tensor(dy, [n, Math.floor(h / 2), Math.floor(w / 2), c]), y: tf.tensor(y, shape) },
              { pool: "max" }
            ) as Array<tf.Tensor>
          // +0 and −0 compare equal, as they act the same downstream
          return out.map((t) => Array.from(t.dataSync(), (v) => v + 0))
        })
      }
      const cpu = on("cpu")
      const wasm = on("wasm")
      expect(maxAbs(Float32Array.from(cpu[0]!))).toBeGreaterThan(0)
      expect(wasm).toEqual(cpu)
    })
  }
})

describe("matmul with transposes and depthwise convolutions match cpu", () => {
  it("matMul in all four transpose combinations", () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true]
    ] as const) {
      expectSameGrads([ta ? [12, 6] : [6, 12], tb ? [5, 12] : [12, 5]], (a, b) =>
        tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb)
      )
    }
  })
  it("fused matMul with bias and relu (dense layers)", () => {
    expectSameGrads([[6, 12], [12, 5], [5]], (a, b, bias) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: bias!, activation: "relu" })
    )
  })
  for (const [stride, pad] of [
    [1, "same"],
    [2, "same"],
    [2, "valid"]
  ] as const) {
    it(`depthwise 3×3 ×2, stride ${stride}, ${pad}`, () => {
      expectSameGrads(
        [
          [2, 7, 7, 3],
          [3, 3, 3, 2]
        ],
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad)
      )
    })
  }
})

describe("a tiny CNN's full gradient", () => {
  const archs: Array<CnnArch> = [
    {
      conv: [
        { filters: 4, kernel: 3 },
        { filters: 6, kernel: 3, padding: "valid" },
        { filters: 5, kernel: 2, stride: 2 }
      ],
      pool: "max",
      dense: [7],
      dropout: 0
    },
    {
      conv: [
        { filters: 3, kernel: 3 },
        { filters: 4, kernel: 3 }
      ],
      pool: "avg",
      dense: [],
      dropout: 0
    }
  ]
  const xData = values([4, 13, 11, 2], 3)
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3))

  /** d loss / d every weight; `fused`: our conv blocks, else tfjs-layers' own ops. */
  const modelGrads = (backend: string, arch: CnnArch, fused: boolean): Array<Float32Array> => {
    void tf.setBackend(backend)
    const m = buildCnn(arch, [13, 11, 2], 3, 5)
    const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable)
    const out = tf.tidy(() => {
      const x = tf.tensor4d(xData, [4, 13, 11, 2])
      const { grads } = tf.variableGrads(() => {
        const logits = fused ? cnnLogits(m, x) : (m.model.apply(x) as tf.Tensor)
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
      }, vars)
      return vars.map((v) => (grads[v.name]!.dataSync() as Float32Array).slice())
    })
    m.model.dispose()
    return out
  }

  for (const arch of archs) {
    it(`${arch.pool} pool: wasm (our kernels) = cpu (tfjs-layers' ops) for every weight`, () => {
      const reference = modelGrads("cpu", arch, false)
      for (const [backend, fused] of [
        ["wasm", true],
        ["wasm", false],
        ["cpu", true]
      ] as const) {
        const g = modelGrads(backend, arch, fused)
        expect(g.length).toBe(reference.length)
        g.forEach((gi, i) =>
          expect(maxDiff(gi, reference[i]!), `${backend} fused=${fused} weight ${i}`).toBeLessThanOrEqual(
            1e-5 * Math.max(1, maxAbs(reference[i]!))
          )
        )
      }
    })
  }

  it("leaks no tensors and no wasm memory across a training step", () => {
    void tf.setBackend("wasm")
    const m = buildCnn(archs[0]!, [13, 11, 2], 3, 5)
    const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable)
    const optimizer = tf.train.adam(1e-3)
    const step = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xData, [4, 13, 11, 2])
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, cnnLogits(m, x, { training: true })) as tf.Scalar,
          false,
          vars
        )
      })
    step()
    step()
    const tensors = tf.memory().numTensors
    const dataIds = tf.engine().backend.numDataIds()
    step()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(tf.engine().backend.numDataIds()).toBe(dataIds)
    optimizer.dispose()
    m.model.dispose()
  })
})

describe("cpu fallback", () => {
  it("its replacement Conv2DBackpropFilter (a transposed forward conv) matches cpu's own kernel", async () => {
    const original = tf.getKernel("Conv2DBackpropFilter", "cpu")!
    const cases = [
      { x: [2, 7, 7, 3], w: [3, 3, 3, 4], stride: 1, pad: "same" as const },
      { x: [2, 8, 8, 3], w: [3, 3, 3, 5], stride: 2, pad: "same" as const },
      { x: [2, 7, 7, 3], w: [2, 2, 3, 4], stride: 2, pad: "valid" as const }
    ]
    const run = () =>
      cases.map(
        (c) =>
          gradsOn("cpu", [c.x, c.w], [values(c.x, 1), values(c.w, 2)], (x, w) =>
            tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad)
          )[1]!
      )
    const before = run()
    try {
      const cpu = await selectTfBackend("cpu")
      expect(cpu.name).toBe("cpu")
      expect((tf.getKernel("Conv2DBackpropFilter", "cpu")!.kernelFunc as { driftgate?: boolean }).driftgate).toBe(true)
      const after = run()
      before.forEach((g, i) => expect(maxDiff(g, after[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(g))))
    } finally {
      tf.unregisterKernel("Conv2DBackpropFilter", "cpu")
      tf.registerKernel(original)
      await selectTfBackend("wasm")
    }
  })
})
