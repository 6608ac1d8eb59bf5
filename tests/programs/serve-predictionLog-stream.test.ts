import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { makeStorageFs } from "../../src/layers/storage/StorageFs.js"
import { makeStorageMemory } from "../../src/layers/storage/StorageMemory.js"
import {
  LogLineReader,
  PREDICTION_LOG_DIR,
  type PredictionLogRow,
  readPredictionLog
} from "../../src/programs/serve/predictionLog.js"
import { READ_CHUNK_BYTES, type Storage } from "../../src/services/Storage.js"

// The prediction log is read in pieces, never as one string per file: a busy service's day can
// outgrow the longest string V8 makes (about 512 MiB), and the reader should not hold the text of
// the whole file beside the rows it parsed from it.

const row = (i: number, day: string, features: Record<string, unknown> = { a: i * 0.5, b: `x${i % 7}` }) =>
  JSON.stringify({
    ts: `${day}T${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}.000Z`,
    request_id: `r${i}`,
    model: "m",
    version: 1,
    features,
    prediction: i % 2 === 0 ? "yes" : 1.25
  })

/** What a whole-text reader gets: every line parsed on its own (the reference the piecewise reader must equal). */
const wholeText = (text: string): string[] =>
  text.split("\n").flatMap((l) => {
    try {
      const v = JSON.parse(l) as { request_id?: unknown; features?: unknown }
      return typeof v === "object" && v !== null && typeof v.request_id === "string" && typeof v.features === "object"
        ? [v.request_id]
        : []
    } catch {
      return []
    }
  })

/** A Storage whose whole-file reads fail: the reader must take the file in pieces. */
const piecesOnly = (s: Storage["Type"]): Storage["Type"] => ({
  ...s,
  readText: (key) => Effect.die(new Error(`readText(${key}): the prediction log must be read in pieces`)),
  read: (key) => Effect.die(new Error(`read(${key}): the prediction log must be read in pieces`))
})

describe("serve: the prediction log is read in pieces", () => {
  it("gives the rows a whole-text parse gives, whatever the piece boundaries (multibyte characters cut, a torn line, no final newline)", () => {
    const lines = [
      row(0, "2026-03-01", { a: 1, name: "Zoë – naïve ☃ 𝄞" }),
      row(1, "2026-03-01"),
      '{"ts":"2026-03-01T10:00:01.000Z","request_id":"torn","model":"m","vers',
      row(2, "2026-03-01", { city: "München", emoji: "🙂🙂" }),
      "",
      row(3, "2026-03-01")
    ]
    const text = lines.join("\n") // no newline after the last row
    const bytes = new TextEncoder().encode(text)
    const expected = wholeText(text)
    expect(expected).toEqual(["r0", "r1", "r2", "r3"])
    for (let size = 1; size <= bytes.length; size++) {
      const out: PredictionLogRow[] = []
      const reader = new LogLineReader(undefined, out)
      // the reader copies what it keeps: the caller reuses one buffer, as the file readers do
      const buf = new Uint8Array(size)
      for (let o = 0; o < bytes.length; o += size) {
        const n = Math.min(size, bytes.length - o)
        buf.set(bytes.subarray(o, o + n))
        reader.push(buf.subarray(0, n))
        buf.fill(0x7b)
      }
      reader.end()
      expect(out.map((r) => r.request_id)).toEqual(expected)
      expect(out[0]!.features).toEqual({ a: 1, name: "Zoë – naïve ☃ 𝄞" })
      expect(out[2]!.features).toEqual({ city: "München", emoji: "🙂🙂" })
    }
  })

  it("a byte-order mark counts only at the start of the file, wherever the pieces are cut", () => {
    // a BOM before the first row (an editor's save) is dropped; one starting a later line is part of
    // that line (not JSON, skipped), as a whole-text read of the file after its BOM gives
    const text =
      "\uFEFF" + [row(0, "2026-03-01"), "\uFEFF" + row(1, "2026-03-01"), row(2, "2026-03-01")].join("\n") + "\n"
    const bytes = new TextEncoder().encode(text)
    const expected = wholeText(text.slice(1))
    expect(expected).toEqual(["r0", "r2"])
    for (let size = 1; size <= bytes.length; size++) {
      const out: PredictionLogRow[] = []
      const reader = new LogLineReader(undefined, out)
      for (let o = 0; o < bytes.length; o += size) reader.push(bytes.slice(o, o + size))
      reader.end()
      expect(
        out.map((r) => r.request_id),
        `pieces of ${size}`
      ).toEqual(expected)
    }
  })

  it.effect(
    "a large log (two days, a repair segment, ≥ 20 pieces) through a folder, StorageFs and StorageMemory without a whole-file read",
    () =>
      Effect.gen(function* () {
        const ws = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-plog-big-"))
        try {
          const dir = path.join(ws, ...PREDICTION_LOG_DIR.split("/"), "m")
          fs.mkdirSync(dir, { recursive: true })
          // day 1, then its repair segment, then day 2 (file order: day, then segment number)
          const files: Array<[string, number, number, string]> = [
            ["2026-03-01.jsonl", 0, 80_000, "2026-03-01"],
            ["2026-03-01.1.jsonl", 80_000, 100_000, "2026-03-01"],
            ["2026-03-02.jsonl", 100_000, 160_000, "2026-03-02"]
          ]
          let bytes = 0
          for (const [name, from, to, day] of files) {
            const fd = fs.openSync(path.join(dir, name), "w")
            let chunk: string[] = []
            for (let i = from; i < to; i++) {
              chunk.push(row(i, day, { a: i * 0.5, b: `x${i % 7}`, note: "é".repeat(i % 5) }))
              if (chunk.length === 5000 || i === to - 1) {
                const text = chunk.join("\n") + "\n"
                bytes += Buffer.byteLength(text)
                fs.writeSync(fd, text)
                chunk = []
              }
            }
            fs.closeSync(fd)
          }
          expect(bytes).toBeGreaterThan(20 * READ_CHUNK_BYTES)

          const fromFolder = yield* readPredictionLog(ws, "m")
          const store = makeStorageFs(ws)
          let pieces = 0
          const counting: Storage["Type"] = {
            ...piecesOnly(store),
            readChunks: (key, chunk) =>
              store.readChunks(key, (b) => {
                pieces++
                expect(b.length).toBeLessThanOrEqual(READ_CHUNK_BYTES)
                chunk(b)
              })
          }
          const fromStorage = yield* readPredictionLog(counting, "m")
          expect(pieces).toBeGreaterThanOrEqual(20)
          for (const rows of [fromFolder, fromStorage]) {
            expect(rows.length).toBe(160_000)
            // every row once, in file order
            let inOrder = true
            for (let i = 0; i < rows.length; i++) if (rows[i]!.request_id !== `r${i}`) inOrder = false
            expect(inOrder).toBe(true)
            expect(rows[123_457]!.features).toEqual({ a: 123_457 * 0.5, b: `x${123_457 % 7}`, note: "éé" })
          }
          // `since` skips day 1 as a whole and keeps day 2's rows from 10:00 on
          const since = new Date("2026-03-02T10:00:00.000Z")
          const later = yield* readPredictionLog(counting, "m", since)
          const expected = fromFolder.filter((r) => r.ts >= since.toISOString())
          expect(later.length).toBe(expected.length)
          expect(later.length).toBeGreaterThan(0)
          expect(later.every((r, i) => r.request_id === expected[i]!.request_id)).toBe(true)

          // StorageMemory hands out the same pieces of what it holds
          const memory = makeStorageMemory()
          for (const [name] of files)
            yield* memory.write(`${PREDICTION_LOG_DIR}/m/${name}`, fs.readFileSync(path.join(dir, name)))
          const fromMemory = yield* readPredictionLog(piecesOnly(memory), "m")
          expect(fromMemory.length).toBe(160_000)
          expect(fromMemory[159_999]!.request_id).toBe("r159999")
        } finally {
          fs.rmSync(ws, { recursive: true, force: true })
        }
      }),
    60_000
  )

  it.effect("readChunks of a missing file is a StorageError naming the key (StorageFs and StorageMemory)", () =>
    Effect.gen(function* () {
      const ws = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-plog-none-"))
      try {
        for (const s of [makeStorageFs(ws), makeStorageMemory()]) {
          const e = yield* Effect.flip(s.readChunks("serving/predictions/m/2026-03-01.jsonl", () => undefined))
          expect(e._tag).toBe("StorageError")
          expect(e.key).toBe("serving/predictions/m/2026-03-01.jsonl")
        }
      } finally {
        fs.rmSync(ws, { recursive: true, force: true })
      }
    })
  )
})
