/**
 * Unprocessing an sRGB photograph into camera raw, after Brooks et al. 2019, "Unprocessing Images for
 * Learned Raw Denoising" (CVPR): inverse gamma, inverse colour correction (the camera's XYZ → camera
 * matrix composed with sRGB → XYZ, rows normalised so white stays white), inverse white balance with
 * their highlight-preserving gains, mosaic, black level, quantisation, and their shot/read noise model.
 * Test tooling for the raw dataset build; not part of the library.
 */
import type { Rng } from "../../src/domain/random.js"

/** sRGB (linear, D65) → CIE XYZ, IEC 61966-2-1. */
const RGB_TO_XYZ = [0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041]

const mul3 = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Array<number> => {
  const out = new Array<number>(9).fill(0)
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j]
  return out
}

/** Brooks's rgb2cam: xyz2cam · rgb2xyz with each row normalised to sum 1. */
export const rgbToCamera = (xyzToCamera: ReadonlyArray<number>): Array<number> => {
  const m = mul3(xyzToCamera, RGB_TO_XYZ)
  for (let i = 0; i < 3; i++) {
    const s = m[i * 3] + m[i * 3 + 1] + m[i * 3 + 2]
    for (let j = 0; j < 3; j++) m[i * 3 + j] /= s
  }
  return m
}

export interface UnprocessParams {
  /** XYZ → camera (DNG ColorMatrix for the scene's illuminant). */
  readonly xyzToCamera: ReadonlyArray<number>
  /** Camera-space neutral (DNG AsShotNeutral): the white balance gains are its reciprocals (G = 1). */
  readonly asShotNeutral: ReadonlyArray<number>
  readonly gamma: number
  readonly black: number
  readonly white: number
  /** Bayer pattern, row-major 2×2 (0 R, 1 G, 2 B). */
  readonly cfa: ReadonlyArray<number>
  /** Shot-noise gain and read-noise variance in [0, 1] units (Brooks's λ_shot, λ_read); 0 for none. */
  readonly shot: number
  readonly read: number
}

/** Brooks's noise levels: log λ_shot uniform in [log lo, log hi], log λ_read on their fitted line. */
export const drawNoise = (rng: Rng, lo: number, hi: number): { shot: number; read: number } => {
  const logShot = Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo))
  const logRead = 2.18 * logShot + 1.2 + 0.26 * rng.normal()
  return { shot: Math.exp(logShot), read: Math.exp(logRead) }
}

/**
 * `rgb`: 8-bit sRGB, height × width × 3 interleaved. Returns the CFA mosaic as integer raw values in
 * [0, white], height × width.
 */
export const unprocess = (
  rgb: Uint8Array,
  width: number,
  height: number,
  p: UnprocessParams,
  rng: Rng
): Uint16Array => {
  const r2c = rgbToCamera(p.xyzToCamera)
  const gains = [1 / p.asShotNeutral[0], 1, 1 / p.asShotNeutral[2]]
  const out = new Uint16Array(width * height)
  const range = p.white - p.black
  const cam = [0, 0, 0]
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      // Inverse gamma (Brooks: x^2.2 with a floor), then inverse colour correction.
      const lin = [0, 1, 2].map((c) => Math.max(rgb[i + c] / 255, 1e-8) ** p.gamma)
      for (let c = 0; c < 3; c++) cam[c] = r2c[c * 3] * lin[0] + r2c[c * 3 + 1] * lin[1] + r2c[c * 3 + 2] * lin[2]
      // Inverse white balance, highlight-preserving: near white the inverse gains fade to 1.
      const grey = (cam[0] + cam[1] + cam[2]) / 3
      const mask = (Math.max(grey - 0.9, 0) / 0.1) ** 2
      const color = p.cfa[(y & 1) * 2 + (x & 1)]
      const inv = 1 / gains[color]
      const safe = Math.max(mask + (1 - mask) * inv, inv)
      let v = Math.min(Math.max(cam[color] * safe, 0), 1)
      // Shot and read noise: N(0, λ_shot · x + λ_read).
      if (p.shot > 0 || p.read > 0) v += Math.sqrt(p.shot * v + p.read) * rng.normal()
      out[y * width + x] = Math.round(p.black + Math.min(Math.max(v, 0), 1) * range)
    }
  return out
}
