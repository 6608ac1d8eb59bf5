import { describe, expect, it } from "vitest"
import { boxBlur, boxKernel, gaussianBlur, gaussianKernel } from "../../src/vision/filters.js"
import { centreCropResize, flipHorizontal, rotate } from "../../src/vision/geometry.js"
import type { ImageShape } from "../../src/vision/tensor.js"
import { rng } from "../../src/domain/random.js"

const random = (shape: ImageShape, seed = 1) => {
  const r = rng(seed)
  return Float32Array.from({ length: shape[0] * shape[1] * shape[2] * shape[3] }, () => r.next())
}
const at = (x: Float32Array, s: ImageShape, n: number, y: number, xx: number, c: number) =>
  x[((n * s[1] + y) * s[2] + xx) * s[3] + c]
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)

describe("kernels", () => {
  it("are normalised and symmetric", () => {
    for (const k of [gaussianKernel(0.5), gaussianKernel(2), boxKernel(0), boxKernel(1), boxKernel(1.5)]) {
      expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
      for (let i = 0; i < k.length; i++) expect(k[i]).toBeCloseTo(k[k.length - 1 - i], 15)
    }
    expect(Array.from(boxKernel(1))).toEqual([1 / 3, 1 / 3, 1 / 3])
    const half = boxKernel(0.5)
    expect(half[0] / half[1]).toBeCloseTo(0.5, 12)
    expect(gaussianKernel(1).length).toBe(7)
  })
})

describe("blurs", () => {
  const shape: ImageShape = [2, 9, 11, 3]
  const x = random(shape)
  it("keep a constant image constant (edges replicate)", () => {
    const c = new Float32Array(x.length).fill(0.3)
    expect(maxAbsDiff(gaussianBlur(c, shape, 1.3), c)).toBeLessThan(1e-6)
    expect(maxAbsDiff(boxBlur(c, shape, 2.5), c)).toBeLessThan(1e-6)
  })
  it("radius 0 box blur is the identity; blurs lower variance and keep the input intact", () => {
    const copy = x.slice()
    expect(maxAbsDiff(boxBlur(x, shape, 0), x)).toBeLessThan(1e-7)
    const v = (a: Float32Array) => {
      const m = a.reduce((s, t) => s + t, 0) / a.length
      return a.reduce((s, t) => s + (t - m) ** 2, 0) / a.length
    }
    expect(v(gaussianBlur(x, shape, 1))).toBeLessThan(v(x) / 3)
    expect(x).toEqual(copy)
  })
  it("matches a direct 2-D convolution at an interior pixel", () => {
    const k = gaussianKernel(0.8)
    const r = (k.length - 1) / 2
    const out = gaussianBlur(x, shape, 0.8)
    let s = 0
    for (let dy = -r; dy <= r; dy++)
      for (let dx = -r; dx <= r; dx++) s += k[dy + r] * k[dx + r] * at(x, shape, 1, 4 + dy, 5 + dx, 2)
    expect(at(out, shape, 1, 4, 5, 2)).toBeCloseTo(s, 6)
  })
})

describe("geometry", () => {
  const shape: ImageShape = [3, 6, 7, 2]
  const x = random(shape, 7)
  it("flip twice is the identity and mirrors columns", () => {
    const f = flipHorizontal(x, shape)
    expect(flipHorizontal(f, shape)).toEqual(x)
    expect(at(f, shape, 2, 3, 0, 1)).toBe(at(x, shape, 2, 3, 6, 1))
  })
  it("rotation by 0 is the identity; by 90 degrees moves the right edge to the top", () => {
    expect(maxAbsDiff(rotate(x, shape, [0, 0, 0]), x)).toBeLessThan(1e-6)
    const sq: ImageShape = [1, 5, 5, 1]
    const img = new Float32Array(25)
    img[2 * 5 + 4] = 1 // middle row, right edge
    const r = rotate(img, sq, [90])
    expect(r[0 * 5 + 2]).toBeCloseTo(1, 6) // counter-clockwise as displayed: top centre
    expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
    const back = rotate(rotate(img, sq, [90]), sq, [-90])
    expect(maxAbsDiff(back, img)).toBeLessThan(1e-6)
  })
  it("rotation fills uncovered corners with the fill value", () => {
    const ones = new Float32Array(49).fill(1)
    const r = rotate(ones, [1, 7, 7, 1], [45], 0)
    expect(r[0]).toBe(0)
    expect(r[3 * 7 + 3]).toBeCloseTo(1, 6)
  })
  it("centre crop with fraction 1 is the identity; 0.5 zooms the centre in", () => {
    expect(maxAbsDiff(centreCropResize(x, shape, 1), x)).toBeLessThan(1e-6)
    // bilinear resampling reproduces a linear ramp exactly: output column x samples 2 + (x + 0.5) / 2 - 0.5
    const s: ImageShape = [1, 3, 8, 1]
    const ramp = Float32Array.from({ length: 24 }, (_, i) => i % 8)
    const z = centreCropResize(ramp, s, 0.5)
    for (let i = 0; i < 24; i++) expect(z[i]).toBeCloseTo(2 + ((i % 8) + 0.5) / 2 - 0.5, 5)
    expect(() => centreCropResize(x, shape, 0)).toThrow()
  })
  it("shape mismatches throw", () => {
    expect(() => flipHorizontal(x, [3, 6, 7, 3])).toThrow(/needs/)
  })
})
