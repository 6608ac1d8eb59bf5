/**
 * A small driver for profiling DNG decode and the ISP at size (not a benchmark: no peer, no target).
 *
 *   node --cpu-prof --cpu-prof-dir=bench/out/prof --import tsx bench/isp_profile.ts [--iter N] [--params malvar,denoise,sharpen]
 *
 * Writes the bench's two 3456×2304 DNGs (uncompressed, LJ92) into bench/out/isp/ once, then decodes and
 * renders each N times, printing CPU time per stage (process.cpuUsage, single thread) and the load average.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import sharp from "sharp"
import { defaultIspParams, type IspParams } from "../src/domain/isp.js"
import { rng } from "../src/domain/random.js"
import { decodeDng, readDngMetadata } from "../src/vision/dng/dng.js"
import { renderRaw } from "../src/vision/isp/pipeline.js"
import { writeDng } from "../tests/tools/dngWriter.js"
import { unprocess } from "../tests/tools/unprocess.js"

const args = process.argv.slice(2)
const ii = args.indexOf("--iter")
const iter = ii >= 0 ? Number(args[ii + 1]) : 3
const pi = args.indexOf("--params")
const extras = pi >= 0 ? (args[pi + 1] ?? "").split(",") : []
const W = 3456
const H = 2304
const dir = new URL("./out/isp/", import.meta.url)
mkdirSync(dir, { recursive: true })
const path = (n: string) => new URL(`${n}.dng`, dir)
if (!existsSync(path("lj92"))) {
  const header = readDngMetadata(
    new Uint8Array(readFileSync(new URL("../data/raw/dng_scenes/images/china/china_000.dng", import.meta.url)))
  )
  if (!header.ok) throw new Error(header.message)
  const photo = await sharp("/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg")
    .resize(W, H)
    .removeAlpha()
    .raw()
    .toBuffer()
  const mosaic = unprocess(
    new Uint8Array(photo),
    W,
    H,
    {
      xyzToCamera: header.meta.colorMatrix2!,
      asShotNeutral: header.meta.asShotNeutral!,
      gamma: 2.2,
      black: 256,
      white: 4095,
      cfa: [0, 1, 1, 2],
      shot: 5e-4,
      read: 1e-6
    },
    rng(8)
  )
  const meta = {
    width: W,
    height: H,
    data: mosaic,
    blackLevel: [256],
    whiteLevel: [4095],
    asShotNeutral: header.meta.asShotNeutral!,
    colorMatrix2: header.meta.colorMatrix2!,
    calibrationIlluminant2: 21
  }
  writeFileSync(path("uncompressed"), writeDng({ ...meta, bitsPerSample: 16, rowsPerStrip: 64 }).bytes)
  writeFileSync(path("lj92"), writeDng({ ...meta, bitsPerSample: 12, compression: "lj92", tile: [256, 256] }).bytes)
}
const params: IspParams = {
  ...defaultIspParams(),
  colour: "color_matrix_2",
  ...(extras.includes("malvar") ? { demosaic: "malvar" as const } : {}),
  ...(extras.includes("denoise") ? { denoise: { method: "gaussian" as const, sigma: 1, size: 3 as const } } : {}),
  ...(extras.includes("median") ? { denoise: { method: "median" as const, sigma: 1, size: 3 as const } } : {}),
  ...(extras.includes("sharpen") ? { sharpen: { amount: 1, sigma: 1 } } : {})
}
let sysMs = 0
const cpuMs = (f: () => void): number => {
  const c0 = process.cpuUsage()
  f()
  const c = process.cpuUsage(c0)
  sysMs += c.system / 1e3
  return (c.user + c.system) / 1e3
}
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")
for (const name of ["uncompressed", "lj92"]) {
  for (let i = 0; i < iter; i++) {
    let bytes = new Uint8Array()
    const read = cpuMs(() => (bytes = new Uint8Array(readFileSync(path(name)))))
    let d: ReturnType<typeof decodeDng> | undefined
    const dec = cpuMs(() => (d = decodeDng(bytes)))
    if (!d?.ok) throw new Error("decode failed")
    const image = d.image
    const isp = cpuMs(() => {
      const r = renderRaw(image, params)
      if (!r.ok) throw new Error(r.message)
    })
    const sys = sysMs
    sysMs = 0
    console.log(
      `${name.padEnd(13)} read ${read.toFixed(0).padStart(4)} ms  decode ${dec.toFixed(0).padStart(5)} ms  isp ${isp.toFixed(0).padStart(5)} ms  (CPU, of which system ${sys.toFixed(0)} ms; load ${load()})`
    )
  }
}
