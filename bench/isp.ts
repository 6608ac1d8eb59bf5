/**
 * Raw camera images: `npm run bench -- isp` (or `npx tsx bench/isp.ts`).
 *
 * Section `decode` (src/vision/dng): DNG decode in megapixels/s beside LibRaw on the same files in the
 * same run. Two 8-megapixel DNGs (the Canon EOS 350D's 3456×2304) are written into a temporary folder
 * from a real photograph (china.jpg, resized, unprocessed with the 350D's matrices as in
 * data/raw/dng_scenes): uncompressed 16-bit strips and lossless JPEG (12-bit, 256×256 tiles, as DNG
 * converters write). driftgate's time is reading the file + decodeDng (parsing included); LibRaw's
 * is `dcraw_emu -timing`'s LibRaw::unpack() for the same file (OMP_NUM_THREADS=1: single thread, as
 * driftgate is). Fastest of RUNS runs each (steadier than a median on a shared machine).
 * Target: driftgate's decode within 2× of LibRaw's unpack on each file; exit 1 when missed.
 * Without dcraw_emu (Debian libraw-bin) the comparison is skipped with one line.
 *
 * Section `isp`: read + decode + the full ISP against `dcraw_emu -4 -q 0 -w -c 0` (unpack + process).
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import sharp from "sharp"
import { rng } from "../src/domain/random.js"
import { decodeDng, readDngMetadata } from "../src/vision/dng/dng.js"
import { defaultIspParams, type IspParams } from "../src/domain/isp.js"
import { renderRaw } from "../src/vision/isp/pipeline.js"
import { writeDng } from "../tests/tools/dngWriter.js"
import { unprocess } from "../tests/tools/unprocess.js"

const RUNS = 5
const W = 3456
const H = 2304
const TARGET_RATIO = 2

const cpu = os.cpus()
console.log(
  `machine: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`
)
console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (other processes skew the figures)`
)

const hasLibraw = spawnSync("dcraw_emu", [], { stdio: "ignore" }).error === undefined
const dir = mkdtempSync(join(os.tmpdir(), "driftgate-isp-bench-"))

// ---------- decode ----------

// The 350D's matrices from a shipped dataset file; the photograph from Debian's python3-sklearn (or the shared copy).
const header = readDngMetadata(
  new Uint8Array(readFileSync(new URL("../data/raw/dng_scenes/images/china/china_000.dng", import.meta.url)))
)
if (!header.ok) throw new Error(header.message)
const china = [
  "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
  "/work/shared/data/images/china.jpg"
].find((p) => existsSync(p))
if (china === undefined) throw new Error("china.jpg not found (Debian python3-sklearn ships it)")
const photo = await sharp(china).resize(W, H).removeAlpha().raw().toBuffer()
const r = rng(8)
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
  r
)
const meta = {
  width: W,
  height: H,
  data: mosaic,
  blackLevel: [256],
  whiteLevel: [4095],
  asShotNeutral: header.meta.asShotNeutral!,
  colorMatrix2: header.meta.colorMatrix2!,
  calibrationIlluminant2: 21,
  make: "Canon",
  model: "Canon EOS 350D DIGITAL"
}
const files = {
  uncompressed: writeDng({ ...meta, bitsPerSample: 16, rowsPerStrip: 64 }).bytes,
  lj92: writeDng({ ...meta, bitsPerSample: 12, compression: "lj92", tile: [256, 256] }).bytes
}

const fastest = (f: () => void): number => {
  f()
  let best = Infinity
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint()
    f()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return best
}

const librawUnpack = (path: string): number | undefined => {
  let best = Infinity
  for (let i = 0; i < RUNS; i++) {
    const out = spawnSync("dcraw_emu", ["-timing", "-disinterp", "-Z", join(dir, "out.ppm"), path], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1" }
    })
    const m = /LibRaw::unpack\(\):\s+([\d.]+) msec/.exec(out.stdout + out.stderr)
    if (m === null) return undefined
    best = Math.min(best, Number(m[1]))
  }
  return best
}

console.log(`\n== decode: ${W}×${H} (${((W * H) / 1e6).toFixed(2)} MP) DNGs written from a real photograph ==`)
console.log("file          size     driftgate ms   MP/s   | LibRaw unpack ms   MP/s   | ratio (target ≤ 2×)")
let missed = 0
for (const [name, bytes] of Object.entries(files)) {
  const path = join(dir, `${name}.dng`)
  writeFileSync(path, bytes)
  const check = decodeDng(bytes)
  if (!check.ok) throw new Error(`${name}: ${check.message}`)
  if (!check.image.data.every((v, i) => v === mosaic[i]))
    throw new Error(`${name}: decoded values differ from the written mosaic`)
  // Reading the file is timed on both sides: LibRaw's unpack reads from its (page-cached) file too.
  const ours = fastest(() => decodeDng(readFileSync(path)))
  const mp = (W * H) / 1e6
  const theirs = hasLibraw ? librawUnpack(path) : undefined
  const ratio = theirs === undefined ? undefined : ours / theirs
  if (ratio !== undefined && ratio > TARGET_RATIO) missed++
  console.log(
    `${name.padEnd(13)} ${(bytes.length / 1e6).toFixed(1).padStart(5)} MB ${ours.toFixed(1).padStart(10)} ${(mp / (ours / 1000)).toFixed(1).padStart(7)}   | ` +
      (theirs === undefined
        ? "n/a".padStart(16) + "   ".padStart(8)
        : `${theirs.toFixed(1).padStart(16)} ${(mp / (theirs / 1000)).toFixed(1).padStart(7)}`) +
      `   | ${ratio === undefined ? "n/a" : `${ratio.toFixed(2)}×${ratio > TARGET_RATIO ? "  MISSED" : ""}`}`
  )
}
if (!hasLibraw) console.log("dcraw_emu not installed (Debian libraw-bin): LibRaw's figures not measured")
console.log(
  `load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`
)

// ---------- isp ----------
// The whole path to an image: read + decodeDng + renderRaw (black level, bilinear, as-shot white balance,
// ColorMatrix2 → sRGB, gamma 2.2; denoise and sharpening off, as dcraw_emu has none) against dcraw_emu's
// LibRaw::unpack() + dcraw_process() for `-4 -q 0 -w -c 0` (bilinear, as-shot WB, 16-bit linear sRGB)
// on the same files, single thread. Target: within 2× of LibRaw; exit 1 when missed.
const librawProcess = (path: string): number | undefined => {
  let best = Infinity
  for (let i = 0; i < RUNS; i++) {
    const out = spawnSync(
      "dcraw_emu",
      ["-timing", "-4", "-q", "0", "-w", "-c", "0", "-Z", join(dir, "out.ppm"), path],
      {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: "1" }
      }
    )
    const text = out.stdout + out.stderr
    const unpack = /LibRaw::unpack\(\):\s+([\d.]+) msec/.exec(text)
    const processed = /LibRaw::dcraw_process\(\):\s+([\d.]+) msec/.exec(text)
    if (unpack === null || processed === null) return undefined
    best = Math.min(best, Number(unpack[1]) + Number(processed[1]))
  }
  return best
}
const ispParams: IspParams = { ...defaultIspParams(), colour: "color_matrix_2" }
console.log(`\n== isp: decode + full ISP of the same ${W}×${H} DNGs ==`)
console.log("file          driftgate ms   MP/s   | LibRaw unpack+process ms   MP/s   | ratio (target ≤ 2×)")
let ispMissed = 0
for (const name of Object.keys(files)) {
  const path = join(dir, `${name}.dng`)
  const once = () => {
    const d = decodeDng(readFileSync(path))
    if (!d.ok) throw new Error(`${name}: ${d.message}`)
    const out = renderRaw(d.image, ispParams)
    if (!out.ok) throw new Error(`${name}: ${out.message}`)
  }
  const ours = fastest(once)
  const mp = (W * H) / 1e6
  const theirs = hasLibraw ? librawProcess(path) : undefined
  const ratio = theirs === undefined ? undefined : ours / theirs
  if (ratio !== undefined && ratio > TARGET_RATIO) ispMissed++
  console.log(
    `${name.padEnd(13)} ${ours.toFixed(1).padStart(12)} ${(mp / (ours / 1000)).toFixed(1).padStart(6)}   | ` +
      (theirs === undefined
        ? "n/a".padStart(24) + "   ".padStart(7)
        : `${theirs.toFixed(1).padStart(24)} ${(mp / (theirs / 1000)).toFixed(1).padStart(6)}`) +
      `   | ${ratio === undefined ? "n/a" : `${ratio.toFixed(2)}×${ratio > TARGET_RATIO ? "  MISSED" : ""}`}`
  )
}
console.log(
  `load average after isp: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`
)

rmSync(dir, { recursive: true, force: true })
if (missed > 0) console.error(`decode: ${missed} file(s) slower than ${TARGET_RATIO}× LibRaw's unpack`)
if (ispMissed > 0)
  console.error(`isp: ${ispMissed} file(s) slower than ${TARGET_RATIO}× LibRaw's unpack + dcraw_process`)
if (missed > 0 || ispMissed > 0) process.exit(1)
