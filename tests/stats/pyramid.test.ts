import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import {
  type ImageBatch,
  channelWasserstein,
  gaussianPyramid,
  pyramidDiagnostics,
  pyramidReduce,
  readScaleRatio
} from "../../src/stats/pyramid.js"
import { wassersteinDistance } from "../../src/stats/wasserstein.js"

/** n smooth c-channel 28 x 28 images: a few Gaussian blobs each, values roughly in [0, 0.8]. */
const blobs = (n: number, seed: number, c = 1): ImageBatch => {
  const r = rng(seed)
  const data = new Float32Array(n * 28 * 28 * c)
  for (let img = 0; img < n; img++) {
    for (let b = 0; b < 3; b++) {
      const cx = 6 + 16 * r.next(),
        cy = 6 + 16 * r.next(),
        s = 2 + 3 * r.next(),
        a = 0.15 + 0.2 * r.next()
      for (let y = 0; y < 28; y++)
        for (let x = 0; x < 28; x++)
          for (let ch = 0; ch < c; ch++) {
            data[((img * 28 + y) * 28 + x) * c + ch] +=
              ((a * (ch + 1)) / c) * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
          }
    }
  }
  return { data, shape: [n, 28, 28, c] }
}
const map = (b: ImageBatch, f: (v: number, r: () => number) => number, seed = 0): ImageBatch => {
  const r = rng(seed)
  return { data: b.data.map((v) => f(v, () => r.normal())), shape: b.shape }
}

describe("channelWasserstein", () => {
  it("is SciPy's W1 on each channel's pooled pixel values", () => {
    const ref = blobs(6, 1, 3)
    const bat = blobs(9, 2, 3)
    const w = channelWasserstein(ref, bat)
    for (let ch = 0; ch < 3; ch++) {
      const pick = (b: ImageBatch) => Float64Array.from(b.data.filter((_, i) => i % 3 === ch))
      expect(w[ch]).toBeCloseTo(wassersteinDistance(pick(ref), pick(bat)), 12)
    }
    expect(Array.from(channelWasserstein(ref, ref))).toEqual([0, 0, 0])
  })
})

describe("Gaussian pyramid", () => {
  it("halves each side (rounding up) and keeps a constant image constant", () => {
    const c: ImageBatch = { data: new Float32Array(2 * 28 * 28).fill(0.4), shape: [2, 28, 28, 1] }
    const p = gaussianPyramid(c, 4)
    expect(p.map((l) => l.shape)).toEqual([
      [2, 28, 28, 1],
      [2, 14, 14, 1],
      [2, 7, 7, 1],
      [2, 4, 4, 1]
    ])
    for (const l of p) for (const v of l.data) expect(v).toBeCloseTo(Math.fround(0.4), 12)
  })
  it("REDUCE is the 5-tap binomial blur sampled at even pixels", () => {
    const b = blobs(1, 3)
    const r = pyramidReduce(b)
    const t = [1, 4, 6, 4, 1].map((v) => v / 16)
    let s = 0
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) s += t[dy + 2] * t[dx + 2] * b.data[(10 + dy) * 28 + 12 + dx]
    expect(r.data[5 * 14 + 6]).toBeCloseTo(s, 7)
  })
})

describe("pyramidDiagnostics", () => {
  const ref = blobs(60, 10)
  it("reads an exposure shift as global: the same distance at every scale", () => {
    const d = pyramidDiagnostics(
      ref,
      map(blobs(60, 11), (v) => v + 0.1)
    )
    expect(d.levels.map((l) => [l.height, l.width])).toEqual([
      [28, 28],
      [14, 14],
      [7, 7]
    ])
    for (const l of d.levels) expect(l.distance).toBeGreaterThan(0.08)
    expect(d.ratio).toBeGreaterThan(0.8)
    expect(d.ratio).toBeLessThan(1.25)
    expect(d.reading).toBe("global")
  })
  it("reads pixel noise as fine detail: it averages away in the coarse levels", () => {
    const d = pyramidDiagnostics(
      ref,
      map(blobs(60, 11), (v, n) => v + 0.1 * n())
    )
    expect(d.levels[0].distance).toBeGreaterThan(3 * d.levels[2].distance)
    expect(d.ratio).toBeGreaterThan(3)
    expect(d.reading).toBe("fine-detail")
    // the thresholds are parameters
    expect(
      pyramidDiagnostics(
        ref,
        map(blobs(60, 11), (v, n) => v + 0.1 * n()),
        { fineThreshold: 1e9, globalThreshold: 1 }
      ).reading
    ).toBe("mid-scale")
  })
  it("identical batches: zero at every level, ratio 1", () => {
    const d = pyramidDiagnostics(ref, ref)
    expect(d.levels.every((l) => l.distance === 0)).toBe(true)
    expect(d.ratio).toBe(1)
  })
  it("readScaleRatio uses strict thresholds", () => {
    expect(readScaleRatio(3.01)).toBe("fine-detail")
    expect(readScaleRatio(3)).toBe("mid-scale")
    expect(readScaleRatio(1.5)).toBe("mid-scale")
    expect(readScaleRatio(1.49)).toBe("global")
    expect(readScaleRatio(2, 1.8, 1.2)).toBe("fine-detail")
  })
  it("rejects batches of another size or channel count", () => {
    expect(() => pyramidDiagnostics(ref, blobs(3, 1, 3))).toThrow(/28 x 28 x 1/)
  })
})
