// The columnar data path on a large CSV, stage by stage, beside pandas doing the same work
// (bench/columnar_reference.py): read + SHA-256 in one pass, write the table as Arrow IPC,
// fit + apply the column transformer (median impute, standard scale).
//   npm run bench -- columnar [FILE]     (default: bench/scale_data.ts's 1M-row California file, made when absent)
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { decodeTable, encodeTable } from "../src/domain/arrowIpc.js"
import { selectColumns } from "../src/domain/columnTable.js"
import { CsvColumnReader, PANDAS_NA_VALUES } from "../src/domain/csvReader.js"
import { fitColumnTransformer, transformFrameColumns } from "../src/ml/preprocess.js"
import { ensureScaleFile } from "./scale_data.js"

// one generator for every scale bench (bench/scale_data.ts: seeded jittered replicas of the shipped file)
const file = process.argv[2] ?? ensureScaleFile("1m")
const times: Record<string, number> = {}
const time = <T>(name: string, f: () => T): T => {
  const t0 = performance.now()
  const r = f()
  times[name] = (performance.now() - t0) / 1000
  return r
}
const read = time("read_csv+sha256", () => {
  const fd = fs.openSync(file, "r")
  const hash = createHash("sha256")
  const reader = new CsvColumnReader({ naValues: PANDAS_NA_VALUES, sizeHint: fs.fstatSync(fd).size })
  const buf = Buffer.allocUnsafe(1 << 22)
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null)
    if (n === 0) break
    hash.update(buf.subarray(0, n))
    reader.push(buf.subarray(0, n))
  }
  fs.closeSync(fd)
  return { result: reader.finish(), sha: hash.digest("hex") }
})
const table = read.result.table
const arrowFile = `${file}.arrow`
time("write_arrow", () => {
  const fd = fs.openSync(arrowFile, "w")
  for (const p of encodeTable(table, { dataset_version: read.sha })) fs.writeSync(fd, p)
  fs.closeSync(fd)
})
time("read_arrow", () => decodeTable(fs.readFileSync(arrowFile)))
const features = table.columns.slice(0, -1).map((c) => c.name)
const x = selectColumns(table, features)
const out = time("impute+scale", () => {
  const state = fitColumnTransformer(x, { scale: "standard", impute: "median", encode: "one_hot" })
  return transformFrameColumns(state, x)
})
const peak = process.resourceUsage().maxRSS / 1024
console.log(
  JSON.stringify({
    tool: "driftgate",
    rows: table.rows,
    sha256: read.sha.slice(0, 12),
    times: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +v.toFixed(2)])),
    total_s: +Object.values(times)
      .reduce((a, b) => a + b, 0)
      .toFixed(2),
    peak_rss_mb: Math.round(peak),
    check: +out.columns[0]![0]!.toFixed(6)
  })
)
fs.rmSync(arrowFile, { force: true })
const py = spawnSync("/usr/bin/python3", [new URL("./columnar_reference.py", import.meta.url).pathname, file], {
  encoding: "utf8"
})
process.stdout.write(py.stdout || py.stderr)
