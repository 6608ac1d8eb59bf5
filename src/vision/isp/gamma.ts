/**
 * Stage 7, gamma: clip linear sRGB to [0, 1], then x^(1/γ) or the sRGB transfer curve (IEC 61966-2-1).
 * Above 1/256 the curve is read from a 65 536-step table with linear interpolation (error below 1e-7 for γ ≤ 4,
 * under one float32 step of the output); below, where the curve bends hardest, it is computed exactly.
 */
import type { IspParams } from "../../domain/isp.js"

const STEPS = 65536
const EXACT_BELOW = 1 / 256

export const encodeGamma = (rgb: Float64Array, p: IspParams["gamma"]): Float32Array => {
  const out = new Float32Array(rgb.length)
  const inv = 1 / p.value
  const curve =
    p.curve === "srgb"
      ? (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055)
      : (v: number) => Math.pow(v, inv)
  const table = new Float64Array(STEPS + 1)
  for (let i = 0; i <= STEPS; i++) table[i] = curve(i / STEPS)
  for (let i = 0; i < rgb.length; i++) {
    const raw = rgb[i]!
    const v = raw > 0 ? (raw < 1 ? raw : 1) : 0
    if (v < EXACT_BELOW) out[i] = curve(v)
    else {
      const f = v * STEPS
      const j = Math.floor(f)
      out[i] = j >= STEPS ? table[STEPS]! : table[j]! + (f - j) * (table[j + 1]! - table[j]!)
    }
  }
  return out
}
