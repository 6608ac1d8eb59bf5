/**
 * Test tooling: a drift batch of DNGs as another camera setting would have written them. Each source
 * DNG is decoded and written again (uncompressed, same sensor values and metadata) with its
 * AsShotNeutral divided by [red, 1, blue] — the camera's white balance estimate moved, so the ISP's
 * as-shot gains are multiplied by [red, 1, blue] (red > 1 and blue < 1: a warmer rendering).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { decodeDng } from "../../src/vision/dng/dng.js"
import { writeDng } from "./dngWriter.js"

export const writeShiftedBatch = (
  sources: ReadonlyArray<string>,
  outDir: string,
  gains: { readonly red: number; readonly blue: number }
): void => {
  mkdirSync(outDir, { recursive: true })
  for (const src of sources) {
    const d = decodeDng(readFileSync(src))
    if (!d.ok) throw new Error(`${src}: ${d.tag}: ${d.message}`)
    const m = d.image.meta
    const n = m.asShotNeutral ?? [1, 1, 1]
    const dng = writeDng({
      width: m.width,
      height: m.height,
      data: d.image.data,
      cfaPattern: m.cfaPattern,
      bitsPerSample: 16,
      blackLevel: m.blackLevel,
      whiteLevel: m.whiteLevel,
      asShotNeutral: [n[0]! / gains.red, n[1]!, n[2]! / gains.blue],
      ...(m.colorMatrix1 ? { colorMatrix1: m.colorMatrix1 } : {}),
      ...(m.colorMatrix2 ? { colorMatrix2: m.colorMatrix2 } : {}),
      ...(m.calibrationIlluminant1 !== undefined ? { calibrationIlluminant1: m.calibrationIlluminant1 } : {}),
      ...(m.calibrationIlluminant2 !== undefined ? { calibrationIlluminant2: m.calibrationIlluminant2 } : {})
    })
    writeFileSync(join(outDir, basename(src)), dng.bytes)
  }
}
