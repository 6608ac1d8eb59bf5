import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { defaultIspParams, type IspParams } from "../../../src/domain/isp.js"
import { rng } from "../../../src/domain/random.js"
import type { RawImage, RawMetadata } from "../../../src/vision/raw.js"
import { blackLevel } from "../../../src/vision/isp/blackLevel.js"
import { interpolationWeight, srgbFromCamera } from "../../../src/vision/isp/colour.js"
import { demosaicBilinear, demosaicMalvar, isBayer } from "../../../src/vision/isp/demosaic.js"
import { renderRaw } from "../../../src/vision/isp/pipeline.js"
import { resizeArea } from "../../../src/vision/isp/resize.js"
import { encodeGamma } from "../../../src/vision/isp/gamma.js"

// Expected values: tests/vision/isp/isp_reference.py (NumPy/SciPy, independent formulations).
interface StageCase {
  name: string
  meta: RawMetadata
  data: number[]
  black_level: number[]
  bilinear: number[]
  malvar: number[]
}
interface RenderCase {
  name: string
  meta: RawMetadata
  data: number[]
  params: IspParams
  width: number
  height: number
  rgb: number[]
}
const ref = JSON.parse(readFileSync(new URL("./isp_reference.json", import.meta.url), "utf8")) as {
  stages: StageCase[]
  renders: RenderCase[]
  interpolation: { cm1: number[]; cm2: number[]; neutral: number[]; weight: number; srgb_from_camera: number[] }
}

const rawOf = (c: { meta: RawMetadata; data: number[] }): RawImage => ({ meta: c.meta, data: Uint16Array.from(c.data) })

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe("ISP stages against NumPy/SciPy", () => {
  for (const c of ref.stages) {
    it(`${c.name}: black level, bilinear and Malvar–He–Cutler`, () => {
      const lin = blackLevel(rawOf(c))
      expect(maxAbsDiff(lin, c.black_level)).toBeLessThan(1e-12)
      const { width: w, height: h, cfaPattern } = c.meta
      expect(isBayer(cfaPattern, 2, 2)).toBe(true)
      expect(maxAbsDiff(demosaicBilinear(lin, w, h, cfaPattern), c.bilinear)).toBeLessThan(1e-12)
      expect(maxAbsDiff(demosaicMalvar(lin, w, h, cfaPattern), c.malvar)).toBeLessThan(1e-12)
    })
  }

  it("interpolates ColorMatrix1/2 by the as-shot neutral's colour temperature (DNG spec)", () => {
    const { cm1, cm2, neutral, weight } = ref.interpolation
    const meta = {
      ...ref.stages[0]!.meta,
      colorMatrix1: cm1,
      colorMatrix2: cm2,
      asShotNeutral: neutral,
      calibrationIlluminant1: 17,
      calibrationIlluminant2: 21
    }
    expect(interpolationWeight(meta)).toBeCloseTo(weight, 9)
    expect(weight).toBeGreaterThan(0)
    expect(weight).toBeLessThan(1)
    expect(maxAbsDiff(srgbFromCamera(meta, "auto"), ref.interpolation.srgb_from_camera)).toBeLessThan(1e-9)
  })
})

describe("renderRaw against NumPy/SciPy", () => {
  for (const c of ref.renders) {
    it(`${c.name}`, () => {
      const r = renderRaw(rawOf(c), c.params)
      if (!r.ok) throw new Error(r.message)
      expect([r.image.height, r.image.width]).toEqual([c.height, c.width])
      // Float32 output of a float64 computation: one float32 rounding of values in [0, 1].
      expect(maxAbsDiff(r.image.data, c.rgb)).toBeLessThan(2e-7)
    })
  }
})

describe("renderRaw", () => {
  const c = ref.renders[0]!
  it("is deterministic and leaves its input alone", () => {
    const raw = rawOf(c)
    const before = Uint16Array.from(raw.data)
    const p: IspParams = { ...defaultIspParams(), demosaic: "malvar", sharpen: { amount: 1, sigma: 1 } }
    const a = renderRaw(raw, p)
    const b = renderRaw(raw, p)
    if (!a.ok || !b.ok) throw new Error("render failed")
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true)
    expect(raw.data).toEqual(before)
    for (const v of a.image.data) expect(v >= 0 && v <= 1).toBe(true)
  })

  it("refuses a non-Bayer CFA and a data length that does not match, naming the problem", () => {
    const raw = rawOf(c)
    const xtrans = renderRaw(
      { ...raw, meta: { ...raw.meta, cfaPattern: [0, 1, 2, 1, 0, 2, 1, 1, 0], cfaRows: 3, cfaCols: 3 } },
      defaultIspParams()
    )
    expect(xtrans).toMatchObject({ ok: false })
    expect(!xtrans.ok && xtrans.message).toContain("not a 2×2 Bayer pattern")
    const short = renderRaw({ ...raw, data: raw.data.subarray(1) }, defaultIspParams())
    expect(!short.ok && short.message).toContain(`not ${c.meta.width}×${c.meta.height}`)
  })

  it("sensor noise is seeded: same seed same bytes, another seed other bytes", () => {
    const raw = rawOf(c)
    const render = (seed: number) => {
      const r = renderRaw(raw, defaultIspParams(), { shot: 0.01, read: 0.02, rng: rng(seed) })
      if (!r.ok) throw new Error(r.message)
      return Buffer.from(r.image.data.buffer)
    }
    expect(render(1).equals(render(1))).toBe(true)
    expect(render(1).equals(render(2))).toBe(false)
  })
})

describe("resizeArea", () => {
  it("averages whole blocks for an integer factor and keeps a constant image constant otherwise", () => {
    const w = 6,
      h = 4
    const data = new Float32Array(w * h * 3)
    for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 100
    const out = resizeArea({ width: w, height: h, data }, 2, 3, 3)
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 3; x++)
        for (let ch = 0; ch < 3; ch++) {
          let s = 0
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) s += data[((2 * y + dy) * w + 2 * x + dx) * 3 + ch]!
          expect(out[(y * 3 + x) * 3 + ch]).toBeCloseTo(s / 4, 6)
        }
    const flat = new Float32Array(7 * 5 * 3).fill(0.25)
    for (const v of resizeArea({ width: 7, height: 5, data: flat }, 3, 4, 1)) expect(v).toBeCloseTo(0.25, 6)
  })
})

describe("gamma", () => {
  // The definition itself is the reference: x^(1/γ), and IEC 61966-2-1's sRGB curve.
  const srgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055)
  const inputs: number[] = [0, 1, 1.5, -0.2, 1e-40, 1e-31, 0.0031308, 1 / 256, 1 / 65536, 0.5 / 65536]
  for (let e = -30; e <= 0; e += 0.01) inputs.push(Math.pow(2, e), Math.pow(2, e) * 1.0000003)
  for (const [name, p, exact] of [
    ["power 2.2", { curve: "power", value: 2.2 }, (v: number) => Math.pow(v, 1 / 2.2)],
    ["power 1.0", { curve: "power", value: 1 }, (v: number) => v],
    ["power 4", { curve: "power", value: 4 }, (v: number) => Math.pow(v, 1 / 4)],
    ["srgb", { curve: "srgb", value: 2.2 }, srgb]
  ] as const) {
    it(`${name}: table within 1e-7 of the exact curve from 2^-30 to 1 (clipped outside [0, 1])`, () => {
      const out = encodeGamma(Float64Array.from(inputs), p)
      for (const [i, x] of inputs.entries()) {
        const v = Math.min(1, Math.max(0, x))
        // float32 output: its own rounding (≤ 6e-8 below 1) on top of the table's error.
        expect(Math.abs(out[i]! - exact(v)), `x = ${x}`).toBeLessThan(1e-7)
      }
    })
  }
})

describe("gamma below the table", () => {
  // Dark values are computed by the curve itself, so a render does not change with the table's
  // implementation (preprocessed tensors are cached by ISP parameters): equal to float32(x^(1/γ)).
  it.each([1.8, 2.2, 2.6, 4])("γ = %s: every value below 1/256 is exactly float32(x^(1/γ))", (g) => {
    const inputs: number[] = []
    for (let e = -24; e < -8; e += 0.001) inputs.push(Math.pow(2, e))
    const out = encodeGamma(Float64Array.from(inputs), { curve: "power", value: g })
    const exact = Float32Array.from(inputs, (x) => Math.pow(x, 1 / g))
    for (const [i, x] of inputs.entries()) if (out[i] !== exact[i]) expect(out[i], `x = ${x}`).toBe(exact[i])
  })
})
