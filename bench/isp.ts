/**
 * Raw camera images: `npm run bench -- isp` (or `npx tsx bench/isp.ts`).
 *
 * Two 8-megapixel DNGs (the Canon EOS 350D's 3456×2304) are written into a temporary folder from a
 * real photograph (china.jpg, resized, unprocessed with the 350D's matrices as in data/raw/dng_scenes):
 * uncompressed 16-bit strips and lossless JPEG (12-bit, 256×256 tiles, as DNG converters write).
 *
 * Section `decode` (src/vision/dng): reading the file + decodeDng against LibRaw's `unprocessed_raw`
 * (open + unpack + writing the raw plane). Section `isp`: read + decode + renderRaw (the full ISP with
 * the stages dcraw has: bilinear, as-shot white balance, ColorMatrix2; plus gamma and orientation)
 * against `dcraw_emu -4 -q 0 -w -c 0` (the same stages, 16-bit linear output).
 *
 * Target: within 2× of LibRaw in CPU time, single thread on both sides (driftgate's process.cpuUsage
 * around the call; LibRaw's child rusage under OMP_NUM_THREADS=1), because wall time on a shared
 * machine measures the neighbours. LibRaw's CPU includes its process start and writing its output
 * file, which driftgate does not do; its own wall-clock phases (`-timing`: unpack, dcraw_process) are
 * printed beside for the like-for-like work. Fastest of RUNS runs each, the two sides alternating.
 * Exits 1 when a target is missed. Without LibRaw (Debian libraw-bin) the comparison is skipped with one line.
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
import { exitOnTargets, type TargetCheck } from "./targets.js"

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

/** CPU and wall time of one call, in ms: this process's user + system CPU (single thread, as driftgate runs). */
const measure = (f: () => void): { cpu: number; wall: number } => {
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  f()
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  const c = process.cpuUsage(c0)
  return { cpu: (c.user + c.system) / 1e3, wall }
}

/**
 * One run of a LibRaw sample program, single thread (OMP_NUM_THREADS=1): the child's user + system
 * CPU (bash's `time`, from the child's rusage) and the `-timing` phases asked for (wall ms, as
 * dcraw_emu prints them). undefined when the program is missing or fails.
 */
const librawRun = (
  args: ReadonlyArray<string>,
  phases: ReadonlyArray<string>
): { cpu: number; phases: number } | undefined => {
  const out = spawnSync("bash", ["-c", 'TIMEFORMAT="librawcpu %3U %3S"; time "$@"', "bash", ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, OMP_NUM_THREADS: "1" }
  })
  const text = out.stdout + out.stderr
  const cpu = /librawcpu ([\d.]+) ([\d.]+)/.exec(text)
  if (out.status !== 0 || cpu === null) return undefined
  let wall = 0
  for (const phase of phases) {
    const m = new RegExp(`LibRaw::${phase}\\(\\):\\s+([\\d.]+) msec`).exec(text)
    if (m === null) return undefined
    wall += Number(m[1])
  }
  return { cpu: (Number(cpu[1]) + Number(cpu[2])) * 1e3, phases: wall }
}

/** Fastest of RUNS for driftgate and for LibRaw, alternating the two so both see the same load. */
const compare = (
  ours: () => void,
  theirs: (() => { cpu: number; phases: number } | undefined) | undefined
): { ours: { cpu: number; wall: number }; theirs: { cpu: number; phases: number } | undefined } => {
  ours()
  const best = { cpu: Infinity, wall: Infinity }
  let peer: { cpu: number; phases: number } | undefined =
    theirs === undefined ? undefined : { cpu: Infinity, phases: Infinity }
  for (let i = 0; i < RUNS; i++) {
    const m = measure(ours)
    best.cpu = Math.min(best.cpu, m.cpu)
    best.wall = Math.min(best.wall, m.wall)
    if (theirs !== undefined && peer !== undefined) {
      const t = theirs()
      peer = t === undefined ? undefined : { cpu: Math.min(peer.cpu, t.cpu), phases: Math.min(peer.phases, t.phases) }
    }
  }
  return { ours: best, theirs: peer }
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")
const mp = (W * H) / 1e6
const rate = (ms: number) => (mp / (ms / 1000)).toFixed(1)
const checks: Array<TargetCheck> = []
const row = (
  name: string,
  ours: { cpu: number; wall: number },
  theirs: { cpu: number; phases: number } | undefined,
  what: string
) => {
  const ratio = theirs === undefined ? undefined : ours.cpu / theirs.cpu
  console.log(
    `${name.padEnd(13)} ${ours.cpu.toFixed(0).padStart(7)} ${rate(ours.cpu).padStart(6)} ${ours.wall.toFixed(0).padStart(7)}   | ` +
      (theirs === undefined
        ? "n/a (dcraw_emu / unprocessed_raw not installed: Debian libraw-bin)"
        : `${theirs.cpu.toFixed(0).padStart(7)} ${rate(theirs.cpu).padStart(6)} ${theirs.phases.toFixed(0).padStart(9)}   | ` +
          `${ratio!.toFixed(2)}× CPU, ${(ours.wall / theirs.phases).toFixed(2)}× wall   (load ${load()})`)
  )
  if (theirs !== undefined)
    checks.push({
      name: `${what} ${name}`,
      ok: ratio! <= TARGET_RATIO,
      detail: `${ours.cpu.toFixed(0)} ms CPU against LibRaw's ${theirs.cpu.toFixed(0)} ms: ${ratio!.toFixed(2)}× (target ≤ ${TARGET_RATIO}×)`
    })
}

console.log(`\n== decode: ${W}×${H} (${mp.toFixed(2)} MP) DNGs written from a real photograph ==`)
console.log(
  "driftgate: read the file + decodeDng. LibRaw: `unprocessed_raw` (open + unpack + write the raw plane as a\n" +
    "16-bit PGM: its CPU includes its start and that write, which driftgate does not do); wall = its unpack() alone\n" +
    "(dcraw_emu -timing). Target on CPU time, single thread on both sides; fastest of " +
    RUNS +
    " alternating runs."
)
console.log("file           dg CPU ms  MP/s dg wall   | LR CPU ms   MP/s LR unpack   | ratio (target ≤ 2× CPU)")
for (const [name, bytes] of Object.entries(files)) {
  const path = join(dir, `${name}.dng`)
  writeFileSync(path, bytes)
  const check = decodeDng(bytes)
  if (!check.ok) throw new Error(`${name}: ${check.message}`)
  if (!check.image.data.every((v, i) => v === mosaic[i]))
    throw new Error(`${name}: decoded values differ from the written mosaic`)
  // Reading the file is timed on both sides: LibRaw reads its (page-cached) file too.
  const unpackWall = hasLibraw
    ? librawRun(["dcraw_emu", "-timing", "-disinterp", "-Z", join(dir, "out.ppm"), path], ["unpack"])?.phases
    : undefined
  const r = compare(
    () => {
      const d = decodeDng(readFileSync(path))
      if (!d.ok) throw new Error(d.message)
    },
    hasLibraw ? () => librawRun(["unprocessed_raw", path], []) : undefined
  )
  row(
    name,
    r.ours,
    r.theirs && unpackWall !== undefined ? { cpu: r.theirs.cpu, phases: unpackWall } : undefined,
    "decode"
  )
}

// ---------- isp ----------
// The whole path to an image: read + decodeDng + renderRaw (black level, bilinear, as-shot white balance,
// ColorMatrix2 → sRGB, gamma 2.2, orientation; denoise and sharpening off, as dcraw_emu has none) against
// dcraw_emu `-4 -q 0 -w -c 0` (open + unpack + dcraw_process: black level and white balance, bilinear, the
// colour matrix; 16-bit linear output, so no gamma; then it writes the 48 MB PPM, which driftgate does not).
const ispParams: IspParams = { ...defaultIspParams(), colour: "color_matrix_2" }
console.log(`\n== isp: read + decode + full ISP of the same ${W}×${H} DNGs ==`)
console.log(
  "driftgate: read + decodeDng + renderRaw (bilinear, as-shot WB, ColorMatrix2, gamma 2.2 from its table,\n" +
    "Float32 sRGB out). LibRaw: `dcraw_emu -4 -q 0 -w -c 0` (bilinear, as-shot WB, the same matrix, 16-bit linear):\n" +
    "its CPU includes its start and writing the 48 MB PPM; wall = its unpack() + dcraw_process() (-timing)."
)
console.log("file           dg CPU ms  MP/s dg wall   | LR CPU ms   MP/s LR phases   | ratio (target ≤ 2× CPU)")
for (const name of Object.keys(files)) {
  const path = join(dir, `${name}.dng`)
  const r = compare(
    () => {
      const d = decodeDng(readFileSync(path))
      if (!d.ok) throw new Error(`${name}: ${d.message}`)
      const out = renderRaw(d.image, ispParams)
      if (!out.ok) throw new Error(`${name}: ${out.message}`)
    },
    hasLibraw
      ? () =>
          librawRun(
            ["dcraw_emu", "-timing", "-4", "-q", "0", "-w", "-c", "0", "-Z", join(dir, "out.ppm"), path],
            ["unpack", "dcraw_process"]
          )
      : undefined
  )
  row(name, r.ours, r.theirs, "decode + ISP")
}
console.log(`load average at end: ${load()}`)
rmSync(dir, { recursive: true, force: true })
if (!hasLibraw) console.log("dcraw_emu not installed (Debian libraw-bin): LibRaw's figures not measured")
else exitOnTargets(checks)
