/**
 * Stage 7, gamma: clip linear sRGB to [0, 1], then x^(1/γ) or the sRGB transfer curve (IEC 61966-2-1).
 * Above 1/256 the curve is read from a 65 536-step table with linear interpolation (error below 1e-7 for γ ≤ 4,
 * under one float32 step of the output). Below, where the curve bends hardest, it is computed exactly
 * (Math.pow): a scaled table lookup there was faster but moved ~20% of those outputs by a few float32
 * steps, and the preprocessed-tensor cache is keyed by the ISP parameters, not by the code — a render
 * must not change between versions.
 */
import type { IspParams } from "../../domain/isp.js"

export const GAMMA_STEPS = 65536
export const GAMMA_EXACT_BELOW = 1 / 256

export interface GammaCurve {
  /** The exact curve. */
  readonly curve: (v: number) => number
  /** curve(i / GAMMA_STEPS) for i = 0 … GAMMA_STEPS. */
  readonly table: Float64Array
}

// Tables are pure functions of the parameters: built once per curve and kept (a few per process).
const tables = new Map<string, GammaCurve>()

export const gammaCurve = (p: IspParams["gamma"]): GammaCurve => {
  const key = `${p.curve}:${p.value}`
  const hit = tables.get(key)
  if (hit !== undefined) return hit
  const inv = 1 / p.value
  const curve =
    p.curve === "srgb"
      ? (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055)
      : (v: number) => Math.pow(v, inv)
  const table = new Float64Array(GAMMA_STEPS + 1)
  for (let i = 0; i <= GAMMA_STEPS; i++) table[i] = curve(i / GAMMA_STEPS)
  const made = { curve, table }
  if (tables.size >= 64) tables.clear()
  tables.set(key, made)
  return made
}

/** One value through the curve (`g.table`, `g.curve` passed apart for the hot loops): clipped, then the table. */
export const gammaOf = (table: Float64Array, curve: (v: number) => number, raw: number): number => {
  const v = raw > 0 ? (raw < 1 ? raw : 1) : 0
  if (v < GAMMA_EXACT_BELOW) return curve(v)
  const f = v * GAMMA_STEPS
  const j = f | 0 // f < 65 537: a truncation is the floor
  return j >= GAMMA_STEPS ? table[GAMMA_STEPS]! : table[j]! + (f - j) * (table[j + 1]! - table[j]!)
}

export const encodeGamma = (rgb: Float64Array, p: IspParams["gamma"]): Float32Array => {
  const out = new Float32Array(rgb.length)
  const { table, curve } = gammaCurve(p)
  for (let i = 0; i < rgb.length; i++) out[i] = gammaOf(table, curve, rgb[i]!)
  return out
}
