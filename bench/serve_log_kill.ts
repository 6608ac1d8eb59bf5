/**
 * What a SIGKILL of `serve` costs the prediction log: a child queues rows into the PredictionLog
 * (the real file writer, the serve defaults flush_interval_ms 1000 / flush_rows 2000 unless given)
 * at a steady rate and reports, synchronously, how many it has accepted; the parent SIGKILLs it at a
 * random moment and compares with the complete lines in the file (every line must parse).
 *
 *   npx tsx bench/serve_log_kill.ts [kills=10] [rows per second=2000] [flush_interval_ms=1000] [flush_rows=2000]
 *
 * Target (docs/serving.md): no unparsable line, and no kill loses more than the rows accepted in one
 * flush interval or flush_rows, whichever is fewer, plus 50 ms of rows for the kill's own timing.
 * Exits 1 when a kill loses more or a line does not parse.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { PredictionLog } from "../src/programs/serve/predictionLog.js"
import { makeLogFileWriter } from "../src/programs/serve/predictionLogFile.js"
import { exitOnTargets } from "./targets.js"

const [mode, ...args] = process.argv.slice(2)

if (mode === "child") {
  const [dir, rate, interval, flushRows] = args.map((a, i) => (i === 0 ? a : Number(a))) as [
    string,
    number,
    number,
    number
  ]
  const log = new PredictionLog(makeLogFileWriter(dir), {
    flushIntervalMs: interval,
    flushRows,
    maxQueue: 100_000
  })
  const features = Object.fromEntries(Array.from({ length: 30 }, (_, j) => [`feature_${j}`, 12.345 + j]))
  let accepted = 0
  const perTick = Math.max(1, Math.round(rate / 1000))
  setInterval(() => {
    const ts = new Date().toISOString()
    for (let i = 0; i < perTick; i++)
      if (log.add(ts, `req-${accepted}`, "m", 1, features, accepted % 2 === 0 ? "benign" : "malignant")) accepted++
    writeSync(1, `${accepted}\n`)
  }, 1)
} else {
  const kills = Number(mode ?? "10")
  const [rate = 2000, interval = 1000, flushRows = 2000] = args.map(Number)
  const losses: number[] = []
  let unparsable = 0
  for (let k = 0; k < kills; k++) {
    const dir = mkdtempSync(join(tmpdir(), "driftgate-logkill-"))
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "child",
        dir,
        String(rate),
        String(interval),
        String(flushRows)
      ],
      {
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    let last = 0
    let buf = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      const lines = (buf + d).split("\n")
      buf = lines.pop() ?? ""
      if (lines.length > 0) last = Number(lines[lines.length - 1])
    })
    // wait until rows flow, then kill 1–4 s later
    await new Promise<void>((res) => {
      const t = setInterval(() => {
        if (last > 0) {
          clearInterval(t)
          res()
        }
      }, 10)
    })
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 3000))
    const exited = new Promise((r) => child.once("exit", r))
    child.kill("SIGKILL")
    await exited
    const folder = join(dir, "serving/predictions/m")
    let lines: string[] = []
    try {
      for (const f of readdirSync(folder))
        lines = lines.concat(readFileSync(join(folder, f), "utf8").split("\n").slice(0, -1))
    } catch {
      lines = []
    }
    for (const l of lines) {
      try {
        JSON.parse(l)
      } catch {
        unparsable++
      }
    }
    losses.push(last - lines.length)
    console.log(`kill ${k + 1}: accepted ${last}, in the file ${lines.length}, lost ${last - lines.length}`)
    rmSync(dir, { recursive: true, force: true })
  }
  const sorted = [...losses].sort((a, b) => a - b)
  console.log("")
  console.log(`rate ${rate} rows/s, flush_interval_ms ${interval}, flush_rows ${flushRows}`)
  console.log(
    `rows lost per SIGKILL: median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted[sorted.length - 1]}, min ${sorted[0]}`
  )
  console.log(`unparsable lines: ${unparsable}`)
  const bound = Math.min((rate * interval) / 1000, flushRows) + rate * 0.05
  exitOnTargets([
    { name: "every logged line parses", ok: unparsable === 0, detail: `${unparsable} unparsable` },
    {
      name: "rows lost per SIGKILL",
      ok: sorted.length === 0 ? undefined : sorted[sorted.length - 1]! <= bound,
      detail: sorted.length === 0 ? "no kill ran" : `max ${sorted[sorted.length - 1]} (bound ${Math.round(bound)})`
    }
  ])
}
