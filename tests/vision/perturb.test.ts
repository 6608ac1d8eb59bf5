import { describe, expect, it } from "vitest"
import { deriveSeed, rng } from "../../src/domain/random.js"
import {
  DEFAULT_PERTURBATIONS,
  SEVERITY_PARAMETERS,
  addGaussianNoise,
  adjustBrightness,
  adjustContrast,
  perturbation,
  perturbationsAt
} from "../../src/vision/perturb.js"
import type { ImageShape } from "../../src/vision/tensor.js"

// four 28 x 28 grey "garments": an off-centre bright block with a textured edge on a dark background
const shape: ImageShape = [4, 28, 28, 1]
const images = (() => {
  const r = rng(11)
  const x = new Float32Array(4 * 28 * 28)
  for (let n = 0; n < 4; n++) {
    for (let y = 0; y < 28; y++) {
      for (let c = 0; c < 28; c++) {
        const inside = y >= 5 + n && y < 22 && c >= 4 && c < 17 + n
        x[(n * 28 + y) * 28 + c] = inside ? 0.5 + 0.3 * r.next() : 0.05 * r.next()
      }
    }
  }
  return x
})()
const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length
const std = (a: Float32Array) => {
  const m = mean(a)
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length)
}

describe("DEFAULT_PERTURBATIONS", () => {
  it("is a fixed list of 22 uniquely named perturbations: 7 families x severities 1, 3, 5 and the flip", () => {
    expect(DEFAULT_PERTURBATIONS.length).toBe(22)
    expect(new Set(DEFAULT_PERTURBATIONS.map((p) => p.name)).size).toBe(22)
    expect(DEFAULT_PERTURBATIONS.map((p) => p.name)).toContain("gaussian_noise_s3")
    expect(DEFAULT_PERTURBATIONS.at(-1)?.name).toBe("horizontal_flip")
    expect(perturbationsAt([2]).map((p) => p.severity)).toEqual([2, 2, 2, 2, 2, 2, 2, 1])
  })

  for (const [k, p] of DEFAULT_PERTURBATIONS.entries()) {
    it(`${p.name}: deterministic for a seed, changes the image, keeps shape and [0, 1], leaves the input alone`, () => {
      const before = images.slice()
      const seed = deriveSeed(42, k)
      const a = p.apply(images, shape, rng(seed))
      const b = p.apply(images, shape, rng(seed))
      expect(a).toEqual(b)
      expect(a.length).toBe(images.length)
      expect(a.every((v) => v >= 0 && v <= 1)).toBe(true)
      const changed = a.reduce((m, v, i) => Math.max(m, Math.abs(v - images[i])), 0)
      expect(changed).toBeGreaterThan(0.01)
      expect(images).toEqual(before)
    })
  }
})

describe("photometric perturbations", () => {
  it("gaussian noise has the requested sigma and depends on the seed", () => {
    const grey = new Float32Array(20_000).fill(0.5)
    const s: ImageShape = [25, 20, 40, 1]
    const a = addGaussianNoise(grey, s, 0.08, rng(1))
    const diff = a.map((v) => v - 0.5)
    expect(Math.abs(mean(diff))).toBeLessThan(0.003)
    expect(std(diff)).toBeCloseTo(0.08, 2)
    expect(addGaussianNoise(grey, s, 0.08, rng(2))).not.toEqual(a)
  })
  it("brightness raises the mean and contrast shrinks the spread, monotonically in severity", () => {
    const means = [1, 2, 3, 4, 5].map((s) => mean(perturbation("brightness", s as 1).apply(images, shape, rng(0))))
    const stds = [1, 2, 3, 4, 5].map((s) => std(perturbation("contrast", s as 1).apply(images, shape, rng(0))))
    for (let i = 1; i < 5; i++) {
      expect(means[i]).toBeGreaterThan(means[i - 1])
      expect(stds[i]).toBeLessThan(stds[i - 1])
    }
    expect(mean(adjustBrightness(images, shape, 0.1))).toBeCloseTo(mean(images) + 0.1, 4)
    // contrast keeps each image's mean (nothing clips at these values)
    expect(mean(adjustContrast(images, shape, 0.5))).toBeCloseTo(mean(images), 5)
  })
  it("severity tables have five increasing-strength levels", () => {
    for (const [family, levels] of Object.entries(SEVERITY_PARAMETERS)) {
      expect(levels.length).toBe(5)
      const sign = family === "contrast" || family === "centre_crop" ? -1 : 1
      for (let i = 1; i < 5; i++) expect(sign * (levels[i] - levels[i - 1])).toBeGreaterThan(0)
    }
  })
  it("rotation draws one sign per image from the rng", () => {
    const p = perturbation("rotation", 5)
    const outs = [1, 2, 3, 4, 5, 6].map((seed) => Array.from(p.apply(images, shape, rng(seed))).join(","))
    expect(new Set(outs).size).toBeGreaterThan(1)
  })
})
