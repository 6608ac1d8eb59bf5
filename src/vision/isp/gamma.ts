/** Stage 7, gamma: clip linear sRGB to [0, 1], then x^(1/γ) or the sRGB transfer curve (IEC 61966-2-1). */
import type { IspParams } from "../../domain/isp.js"

export const encodeGamma = (rgb: Float64Array, p: IspParams["gamma"]): Float32Array => {
  const out = new Float32Array(rgb.length)
  const inv = 1 / p.value
  const srgb = p.curve === "srgb"
  for (let i = 0; i < rgb.length; i++) {
    const raw = rgb[i]!
    const v = raw > 0 ? (raw < 1 ? raw : 1) : 0
    out[i] = srgb ? (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) : Math.pow(v, inv)
  }
  return out
}
