/**
 * Stage 3, white balance: per-channel gains on camera RGB (the ISP folds them into the colour
 * matrix, pipeline.ts). As shot, the gains are the reciprocals of
 * AsShotNeutral normalised so green is 1; a config can replace them and scale red and blue.
 */
import type { IspParams } from "../../domain/isp.js"
import type { RawMetadata } from "../raw.js"

/** The gains [r, g, b] (G = 1) the parameters and the file's AsShotNeutral give. */
export const whiteBalanceGains = (meta: RawMetadata, p: IspParams["white_balance"]): [number, number, number] => {
  let g: [number, number, number] = [1, 1, 1]
  if (p.gains !== undefined) g = [p.gains[0] / p.gains[1], 1, p.gains[2] / p.gains[1]]
  else if (meta.asShotNeutral !== undefined && meta.asShotNeutral.length === 3) {
    const n = meta.asShotNeutral
    if (n.every((v) => v > 0)) g = [n[1]! / n[0]!, 1, n[1]! / n[2]!]
  }
  return [g[0] * p.red_scale, 1, g[2] * p.blue_scale]
}
