// Deterministic large CSVs from the shipped California housing rows: replica 0 is the file itself,
// replica r > 0 every value jittered by ±0.5 % (seeded LCG), 8 significant digits.
//   node bench/scaleData.mjs 50 /tmp/cal1m.csv     (50 × 20,640 = 1,032,000 rows, ~93 MB)
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const src = fs.readFileSync(path.join(here, "../data/raw/california_housing/data.csv"), "utf8").trim().split("\n")
const header = src[0]
const rows = src.slice(1).map((l) => l.split(",").map(Number))
let s = 12345
const rnd = () => {
  s = (s * 1664525 + 1013904223) >>> 0
  return s / 4294967296
}
const reps = Number(process.argv[2] ?? 50)
const file = process.argv[3] ?? "/tmp/cal1m.csv"
const fd = fs.openSync(file, "w")
fs.writeSync(fd, header + "\n")
for (let r = 0; r < reps; r++) {
  const buf = []
  for (const row of rows)
    buf.push(row.map((v) => (r === 0 ? v : +(v * (1 + (rnd() - 0.5) * 0.01)).toPrecision(8))).join(","))
  fs.writeSync(fd, buf.join("\n") + "\n")
}
fs.closeSync(fd)
