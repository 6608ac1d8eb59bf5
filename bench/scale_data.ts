/**
 * Deterministic large tabular files for the scale benchmarks, made from the shipped California
 * housing CSV (20,640 rows): R jittered replicas of every row, rows in a seeded shuffled order.
 *
 *   npx tsx bench/scale_data.ts            # writes bench/out/california_1m.csv and california_100k.csv
 *
 * Replica 0 is the original values; replica r > 0 multiplies each value by (1 + u·0.01), u uniform
 * in [-1, 1) from a PRNG seeded per replica, and prints it with 6 decimals. The same seed gives the
 * same bytes on every machine. The files are shuffled so that "first 80% / last 20%" is a random
 * split both driftgate and scikit-learn can take without sharing indices.
 */
import { createHash } from "node:crypto"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { deriveSeed, rng } from "../src/domain/random.js"

const root = fileURLToPath(new URL("../", import.meta.url))
export const scaleDir = `${root}bench/out`
const SOURCE = `${root}data/raw/california_housing/data.csv`
const SEED = 20240610

export interface ScaleFile {
  readonly path: string
  readonly rows: number
  readonly replicas: number
}

export const scaleFiles = {
  "1m": { path: `${scaleDir}/california_1m.csv`, rows: 1_032_000, replicas: 50 },
  "100k": { path: `${scaleDir}/california_100k.csv`, rows: 103_200, replicas: 5 }
} as const satisfies Record<string, ScaleFile>

const write = (file: ScaleFile): void => {
  const text = readFileSync(SOURCE, "utf8")
  const lines = text.split("\n").filter((l) => l.length > 0)
  const header = lines[0]!
  const base = lines.slice(1).map((l) => l.split(",").map(Number))
  const nBase = base.length
  const n = nBase * file.replicas
  if (n !== file.rows) throw new Error(`${file.path}: ${nBase} × ${file.replicas} = ${n} rows, expected ${file.rows}`)
  // seeded permutation of all output rows (Fisher–Yates on a typed array: no data-sized spreads)
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const r = rng(SEED)
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1)
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  // one jitter stream per replica so a row's values do not depend on where it lands in the file
  const cols = base[0]!.length
  const jitter = new Float64Array(n * cols)
  for (let rep = 1; rep < file.replicas; rep++) {
    const jr = rng(deriveSeed(SEED, rep))
    for (let k = rep * nBase * cols; k < (rep + 1) * nBase * cols; k++) jitter[k] = (jr.next() * 2 - 1) * 0.01
  }
  mkdirSync(scaleDir, { recursive: true })
  const fd = openSync(`${file.path}.tmp`, "w")
  let chunk = header + "\n"
  for (let k = 0; k < n; k++) {
    const g = order[k]!
    const rep = Math.floor(g / nBase)
    const row = base[g - rep * nBase]!
    let line = ""
    for (let j = 0; j < cols; j++) {
      const v = row[j]!
      const s = rep === 0 ? String(v) : (v * (1 + jitter[g * cols + j]!)).toFixed(6)
      line += j === 0 ? s : "," + s
    }
    chunk += line + "\n"
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk)
      chunk = ""
    }
  }
  writeSync(fd, chunk)
  closeSync(fd)
  // rename only when complete, so an interrupted run never leaves a short file behind
  renameSync(`${file.path}.tmp`, file.path)
}

/** Writes the file unless it is there already; returns its path. */
export const ensureScaleFile = (name: keyof typeof scaleFiles): string => {
  const file = scaleFiles[name]
  if (!existsSync(file.path)) write(file)
  return file.path
}

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex")

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of Object.keys(scaleFiles) as Array<keyof typeof scaleFiles>) {
    const t0 = performance.now()
    const path = ensureScaleFile(name)
    console.log(
      `${path}  ${scaleFiles[name].rows} rows  sha256 ${sha256(path)}  ${((performance.now() - t0) / 1000).toFixed(1)} s`
    )
  }
}
