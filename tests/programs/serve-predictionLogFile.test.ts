import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { rng } from "../../src/domain/random.js"
import {
  PREDICTION_LOG_DIR,
  PredictionLog,
  PredictionLogRow,
  readPredictionLog
} from "../../src/programs/serve/predictionLog.js"
import {
  type LogFiles,
  makeLogFileWriter,
  nodeLogFiles,
  PartialAppend
} from "../../src/programs/serve/predictionLogFile.js"

// A full disk, simulated through the log's file layer: each write puts what still fits on the real
// file, then fails with ENOSPC, as the kernel does. The file must end up holding whole rows only,
// exactly as many as the log counted written.

const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })

/** Real files whose writes stop at `disk.free` bytes (shared by every file), like a filling disk. */
const fullDisk = (disk: { free: number }, failTruncate: { value: boolean } = { value: false }): LogFiles => ({
  open: async (file) => {
    const f = await nodeLogFiles.open(file)
    return {
      ...f,
      write: async (buffer, offset, length) => {
        if (disk.free <= 0) throw enospc()
        if (length <= disk.free) {
          const n = await f.write(buffer, offset, length)
          disk.free -= n
          return n
        }
        // a short write (what fits), then the next call fails
        const n = await f.write(buffer, offset, disk.free)
        disk.free -= n
        return n
      },
      truncate: async (length) => {
        if (failTruncate.value) throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" })
        const before = await f.size()
        await f.truncate(length)
        disk.free += before - length
      }
    }
  }
})

const workspace = () => fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-plogfile-"))
const logDir = (ws: string, model: string) => path.join(ws, ...PREDICTION_LOG_DIR.split("/"), model)
const isRow = Schema.is(PredictionLogRow)

const fileLines = (file: string) => {
  const text = fs.readFileSync(file, "utf8")
  return { text, lines: text.split("\n").slice(0, -1) }
}

describe("serve: the prediction log's file layer", () => {
  it("a disk that fills up and frees again: every line parses, counters equal the lines in the file", async () => {
    const random = rng(11)
    for (let trial = 0; trial < 6; trial++) {
      const ws = workspace()
      const disk = { free: 5_000 + Math.floor(random.next() * 20_000) }
      const writer = makeLogFileWriter(ws, fullDisk(disk))
      const errors: string[] = []
      const log = new PredictionLog(
        writer,
        { flushIntervalMs: 60_000, flushRows: 1_000_000, maxQueue: 1_000_000 },
        { onError: (e) => errors.push((e as { code?: string }).code ?? String(e)) }
      )
      let added = 0
      for (let flush = 0; flush < 30; flush++) {
        const rows = 1 + Math.floor(random.next() * 40)
        const features = Array.from({ length: rows }, (_, i) => ({ x: random.next(), name: `r${flush}-${i}` }))
        log.add(
          "2026-03-01T10:00:00.000Z",
          `req-${flush}`,
          "m",
          1,
          features,
          features.map((_, i) => i % 3)
        )
        added += rows
        await log.flush()
        if (flush % 7 === 6) disk.free += Math.floor(random.next() * 6_000) // space freed meanwhile
      }
      await log.close()
      const { text, lines } = fileLines(path.join(logDir(ws, "m"), "2026-03-01.jsonl"))
      expect(text.endsWith("\n")).toBe(true)
      for (const l of lines) expect(isRow(JSON.parse(l))).toBe(true)
      expect(lines.length).toBe(log.written)
      expect(log.written + log.failed).toBe(added)
      expect(log.failed).toBeGreaterThan(0) // the disk did fill up
      expect(log.written).toBeGreaterThan(0)
      expect(new Set(errors)).toEqual(new Set(["ENOSPC"]))
      // and the reader returns exactly those rows
      expect((await Effect.runPromise(readPredictionLog(ws, "m"))).length).toBe(log.written)
      fs.rmSync(ws, { recursive: true, force: true })
    }
  })

  it("keeps the whole lines of a write that failed half-way and cuts the partial one", async () => {
    const ws = workspace()
    const line = (i: number) => `{"i":${i}}\n`
    const disk = { free: line(0).length * 2 + 3 } // two lines and three bytes of the third
    const writer = makeLogFileWriter(ws, fullDisk(disk))
    const error = await writer.append("serving/predictions/m/2026-03-01.jsonl", line(0) + line(1) + line(2)).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PartialAppend)
    expect((error as PartialAppend).linesWritten).toBe(2)
    expect((error as PartialAppend).linesFailed).toBe(1)
    expect(((error as PartialAppend).cause as { code: string }).code).toBe("ENOSPC")
    const file = path.join(logDir(ws, "m"), "2026-03-01.jsonl")
    expect(fs.readFileSync(file, "utf8")).toBe(line(0) + line(1))
    disk.free = 1_000
    await writer.append("serving/predictions/m/2026-03-01.jsonl", line(3))
    expect(fs.readFileSync(file, "utf8")).toBe(line(0) + line(1) + line(3))
    fs.rmSync(ws, { recursive: true, force: true })
  })

  it("repairs a file left with a cut line (a crash mid-write) before appending, so nothing is glued onto it", async () => {
    const ws = workspace()
    const dir = logDir(ws, "m")
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, "2026-03-01.jsonl")
    fs.writeFileSync(file, '{"a":1}\n{"a":2}\n{"ts":"2026-03-01T1')
    const writer = makeLogFileWriter(ws)
    await writer.append("serving/predictions/m/2026-03-01.jsonl", '{"a":3}\n')
    expect(fs.readFileSync(file, "utf8")).toBe('{"a":1}\n{"a":2}\n{"a":3}\n')
    // a file that is one cut line, longer than the chunk the repair reads backwards, is emptied
    const other = path.join(dir, "2026-03-02.jsonl")
    fs.writeFileSync(other, "x".repeat(200_000))
    await writer.append("serving/predictions/m/2026-03-02.jsonl", '{"a":4}\n')
    expect(fs.readFileSync(other, "utf8")).toBe('{"a":4}\n')
    fs.rmSync(ws, { recursive: true, force: true })
  })

  it("when the cut line cannot be truncated away, continues in a new segment the reader reads in order", async () => {
    const ws = workspace()
    const row = (id: string) =>
      JSON.stringify({
        ts: "2026-03-01T10:00:00.000Z",
        request_id: id,
        model: "m",
        version: 1,
        features: { x: 1 },
        prediction: 0
      }) + "\n"
    const disk = { free: row("a").length + 10 }
    const noTruncate = { value: true }
    const writer = makeLogFileWriter(ws, fullDisk(disk, noTruncate))
    await expect(writer.append("serving/predictions/m/2026-03-01.jsonl", row("a") + row("b"))).rejects.toBeInstanceOf(
      PartialAppend
    )
    disk.free = 10_000
    await writer.append("serving/predictions/m/2026-03-01.jsonl", row("c"))
    const dir = logDir(ws, "m")
    expect(fs.readdirSync(dir).sort()).toEqual(["2026-03-01.1.jsonl", "2026-03-01.jsonl"])
    expect(fs.readFileSync(path.join(dir, "2026-03-01.1.jsonl"), "utf8")).toBe(row("c"))
    const rows = await Effect.runPromise(readPredictionLog(ws, "m"))
    expect(rows.map((r) => r.request_id)).toEqual(["a", "c"])
    fs.rmSync(ws, { recursive: true, force: true })
  })
})
