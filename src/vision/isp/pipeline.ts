/**
 * The seven-stage ISP in the predecessor's order: black level → demosaic → white balance → colour
 * correction → denoise (luma) → sharpen (luma) → gamma, then the file's orientation. Pure and
 * deterministic: the same raw and parameters give the same bytes.
 */
import type { IspParams } from "../../domain/isp.js"
import type { Rng } from "../../domain/random.js"
import type { RawImage } from "../raw.js"
import { blackLevel } from "./blackLevel.js"
import { applyMatrix, srgbFromCamera } from "./colour.js"
import { demosaicBilinear, demosaicMalvar, isBayer } from "./demosaic.js"
import { encodeGamma } from "./gamma.js"
import { denoiseLuma, sharpenLuma } from "./luma.js"
import { orient } from "./orientation.js"
import { applyGains, whiteBalanceGains } from "./whiteBalance.js"

/** An sRGB image, `height × width × 3` interleaved, values in [0, 1]. */
export interface RgbImage {
  readonly width: number
  readonly height: number
  readonly data: Float32Array
}

export type RenderResult =
  { readonly ok: true; readonly image: RgbImage } | { readonly ok: false; readonly message: string }

/** Sensor noise added to the normalised linear values (Brooks et al. 2019: variance shot · x + read²). */
export interface RawNoise {
  readonly shot: number
  readonly read: number
  readonly rng: Rng
}

const addNoise = (v: Float64Array, noise: RawNoise): void => {
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!
    const n = x + Math.sqrt(noise.shot * x + noise.read * noise.read) * noise.rng.normal()
    v[i] = n < 0 ? 0 : n > 1 ? 1 : n
  }
}

/** Linear camera RGB after black level and demosaic (stages 1–2), before white balance. */
export const linearCameraRgb = (
  raw: RawImage,
  demosaic: IspParams["demosaic"],
  noise?: RawNoise
): { ok: true; rgb: Float64Array } | { ok: false; message: string } => {
  const m = raw.meta
  const expected = m.width * m.height * (m.kind === "linear" ? 3 : 1)
  if (!(m.width > 0 && m.height > 0) || raw.data.length !== expected)
    return { ok: false, message: `the raw holds ${raw.data.length} samples, not ${m.width}×${m.height}` }
  const lin = blackLevel(raw)
  if (noise !== undefined) addNoise(lin, noise)
  if (m.kind === "linear") return { ok: true, rgb: lin }
  if (!isBayer(m.cfaPattern, m.cfaRows, m.cfaCols))
    return {
      ok: false,
      message: `CFAPattern ${m.cfaRows}×${m.cfaCols} [${m.cfaPattern.join(",")}] is not a 2×2 Bayer pattern (the ISP demosaics Bayer only)`
    }
  const rgb =
    demosaic === "malvar"
      ? demosaicMalvar(lin, m.width, m.height, m.cfaPattern)
      : demosaicBilinear(lin, m.width, m.height, m.cfaPattern)
  return { ok: true, rgb }
}

/** The whole ISP: raw sensor values → upright sRGB in [0, 1]. */
export const renderRaw = (raw: RawImage, p: IspParams, noise?: RawNoise): RenderResult => {
  const lin = linearCameraRgb(raw, p.demosaic, noise)
  if (!lin.ok) return lin
  const { width: w, height: h } = raw.meta
  const rgb = lin.rgb
  applyGains(rgb, whiteBalanceGains(raw.meta, p.white_balance))
  applyMatrix(rgb, srgbFromCamera(raw.meta, p.colour))
  denoiseLuma(rgb, w, h, p.denoise)
  sharpenLuma(rgb, w, h, p.sharpen)
  const encoded = encodeGamma(rgb, p.gamma)
  return { ok: true, image: orient(encoded, w, h, raw.meta.orientation) }
}
