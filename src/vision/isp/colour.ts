/**
 * Stage 4, colour correction: white-balanced camera RGB → linear sRGB (D65) through the DNG's
 * matrices. ColorMatrix (XYZ → camera) is chosen or interpolated by illuminant as the DNG
 * specification describes (weights linear in inverse colour temperature, the temperature of the
 * as-shot neutral found by iteration; McCamy's formula stands in for Robertson's for xy → CCT);
 * srgb_from_camera = inverse(ColorMatrix · xyz_from_srgb) with the inner product's rows normalised
 * to sum 1, so the white-balanced neutral stays neutral (as dcraw does). ForwardMatrix (white-
 * balanced camera → XYZ D50) goes through Bradford-adapted XYZ D50 → sRGB. No matrix: identity.
 */
import type { ColourMode } from "../../domain/isp.js"
import type { RawMetadata } from "../raw.js"

export type Mat3 = readonly [number, number, number, number, number, number, number, number, number]

/** IEC 61966-2-1 linear sRGB → XYZ (D65). */
export const XYZ_FROM_SRGB: Mat3 = [
  0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041
]
/** XYZ (D50) → linear sRGB with Bradford adaptation D50 → D65 (Lindbloom). */
export const SRGB_FROM_XYZ_D50: Mat3 = [
  3.1338561, -1.6168667, -0.4906146, -0.9787684, 1.9161415, 0.033454, 0.0719453, -0.2289914, 1.4052427
]
export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]

export const mul = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Mat3 => {
  const o = new Array<number>(9)
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!
  return o as unknown as Mat3
}

/** Inverse of a 3×3 (undefined when singular). */
export const invert = (m: ReadonlyArray<number>): Mat3 | undefined => {
  const [a, b, c, d, e, f, g, h, i] = m as Mat3
  const A = e * i - f * h,
    B = -(d * i - f * g),
    C = d * h - e * g
  const det = a * A + b * B + c * C
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) return undefined
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det
  ]
}

const apply = (m: ReadonlyArray<number>, v: ReadonlyArray<number>): [number, number, number] => [
  m[0]! * v[0]! + m[1]! * v[1]! + m[2]! * v[2]!,
  m[3]! * v[0]! + m[4]! * v[1]! + m[5]! * v[2]!,
  m[6]! * v[0]! + m[7]! * v[1]! + m[8]! * v[2]!
]

/** Colour temperature (K) of the EXIF LightSource codes CalibrationIlluminant uses (Adobe DNG SDK's table). */
export const illuminantTemperature = (code: number | undefined): number | undefined => {
  switch (code) {
    case 1: // daylight
    case 4: // flash
    case 9: // fine weather
      return 5500
    case 2: // fluorescent
    case 14: // cool white fluorescent
      return 4150
    case 3: // tungsten
      return 2850
    case 10: // cloudy
      return 6500
    case 11: // shade
      return 7500
    case 12: // daylight fluorescent
      return 6400
    case 13: // day white fluorescent
      return 5050
    case 15: // white fluorescent
      return 3525
    case 17: // standard A
      return 2856
    case 18: // standard B
      return 4874
    case 19: // standard C
      return 6774
    case 20: // D55
      return 5503
    case 21: // D65
      return 6504
    case 22: // D75
      return 7504
    case 23: // D50
      return 5003
    case 24: // ISO studio tungsten
      return 3200
    default:
      return undefined
  }
}

/** McCamy (1992): correlated colour temperature of chromaticity (x, y). */
export const mccamyCct = (x: number, y: number): number => {
  const n = (x - 0.332) / (0.1858 - y)
  return 449 * n ** 3 + 3525 * n ** 2 + 6823.3 * n + 5520.33
}

const blend = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, g: number): Mat3 =>
  a.map((v, i) => g * v + (1 - g) * b[i]!) as unknown as Mat3

/**
 * The weight of matrix 1 (0..1) for the as-shot neutral, or undefined when the two illuminants'
 * temperatures are not both known (then the caller selects one matrix).
 */
export const interpolationWeight = (meta: RawMetadata): number | undefined => {
  const t1 = illuminantTemperature(meta.calibrationIlluminant1)
  const t2 = illuminantTemperature(meta.calibrationIlluminant2)
  const cm1 = meta.colorMatrix1
  const cm2 = meta.colorMatrix2
  if (t1 === undefined || t2 === undefined || cm1 === undefined || cm2 === undefined || t1 === t2) return undefined
  const neutral = meta.asShotNeutral ?? [1, 1, 1]
  const weightOf = (t: number) => {
    const g = (1 / t - 1 / t2) / (1 / t1 - 1 / t2)
    return g < 0 ? 0 : g > 1 ? 1 : g
  }
  let g = 0.5
  for (let it = 0; it < 30; it++) {
    const inv = invert(blend(cm1, cm2, g))
    if (inv === undefined) return g
    const [X, Y, Z] = apply(inv, neutral)
    const s = X + Y + Z
    if (!(s > 0)) return g
    const next = weightOf(mccamyCct(X / s, Y / s))
    if (Math.abs(next - g) < 1e-10) return next
    g = next
  }
  return g
}

/** The matrix taking white-balanced camera RGB to linear sRGB, per mode. */
export const srgbFromCamera = (meta: RawMetadata, mode: ColourMode): Mat3 => {
  if (mode === "identity") return IDENTITY
  const g = interpolationWeight(meta)
  const pick = (m1: ReadonlyArray<number> | undefined, m2: ReadonlyArray<number> | undefined) =>
    m1 !== undefined && m2 !== undefined && g !== undefined ? blend(m1, m2, g) : (m2 ?? m1)
  if (mode === "forward" || (mode === "auto" && (meta.forwardMatrix1 ?? meta.forwardMatrix2) !== undefined)) {
    const fm = pick(meta.forwardMatrix1, meta.forwardMatrix2)
    if (fm !== undefined && fm.length === 9) return mul(SRGB_FROM_XYZ_D50, fm)
    if (mode === "forward") return IDENTITY
  }
  const cm =
    mode === "color_matrix_1"
      ? meta.colorMatrix1
      : mode === "color_matrix_2"
        ? meta.colorMatrix2
        : pick(meta.colorMatrix1, meta.colorMatrix2)
  if (cm === undefined || cm.length !== 9) return IDENTITY
  const camFromSrgb: Array<number> = [...mul(cm, XYZ_FROM_SRGB)]
  for (let r = 0; r < 3; r++) {
    const s = camFromSrgb[r * 3]! + camFromSrgb[r * 3 + 1]! + camFromSrgb[r * 3 + 2]!
    if (Math.abs(s) < 1e-12) return IDENTITY
    for (let c = 0; c < 3; c++) camFromSrgb[r * 3 + c] = camFromSrgb[r * 3 + c]! / s
  }
  return invert(camFromSrgb) ?? IDENTITY
}
