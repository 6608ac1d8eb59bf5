/**
 * StoragePostgres against StorageFs: the same calls give the same answers, the shared folders go
 * to the store (content-addressed, chunked) and everything else to the local folder, and bytes
 * damaged in the store are an error naming the key, never wrong bytes. Needs DRIFTGATE_TEST_PG_URL.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { PostgresDatabase, PostgresDatabaseLive } from "../../src/layers/postgres/PostgresDatabase.js"
import { makeStorageFs } from "../../src/layers/storage/StorageFs.js"
import { CHUNK_BYTES, makeStoragePostgres } from "../../src/layers/storage/StoragePostgres.js"
import type { Storage } from "../../src/services/Storage.js"
import { cleanUpDatabases, describePg, freshDatabase } from "./pg-support.js"

cleanUpDatabases()
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "driftgate-storage-pg-"))
  dirs.push(d)
  return d
}

/** Pseudo-random bytes (a fixed LCG), more than two chunks long. */
const big = (() => {
  const b = new Uint8Array(CHUNK_BYTES * 2 + 12345)
  let x = 12345
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
})()

/** A file read through readChunks, joined again, with the number of pieces. */
const chunked = (s: Storage["Type"], key: string) =>
  Effect.gen(function* () {
    const pieces: Buffer[] = []
    yield* s.readChunks(key, (b) => pieces.push(Buffer.from(b)))
    return { bytes: Buffer.concat(pieces), pieces: pieces.length }
  })

const script = (s: Storage["Type"]) =>
  Effect.gen(function* () {
    yield* s.write("artifacts/r1/model/model.json", '{"a":1}')
    yield* s.write("artifacts/r1/model/model.json", '{"a":2}')
    const once = [
      yield* s.writeOnce("artifacts/r1/model/w.bin", big),
      yield* s.writeOnce("artifacts/r1/model/w.bin", "x")
    ]
    yield* s.append("drift/iris/history.jsonl", "one\n")
    yield* s.append("drift/iris/history.jsonl", "two\n")
    yield* s.write("reports/r1/report.json", "{}")
    yield* s.write("datasets/iris/abc/data.csv", "a,b\n1,2\n")
    const listed = {
      all: yield* s.list(""),
      artifacts: yield* s.list("artifacts"),
      model: yield* s.list("artifacts/r1/model"),
      datasets: yield* s.list("datasets")
    }
    const read = {
      model: yield* s.readText("artifacts/r1/model/model.json"),
      big: (yield* s.read("artifacts/r1/model/w.bin")).length,
      same: Buffer.compare(Buffer.from(yield* s.read("artifacts/r1/model/w.bin")), Buffer.from(big)) === 0,
      history: yield* s.readText("drift/iris/history.jsonl"),
      csv: yield* s.readText("datasets/iris/abc/data.csv"),
      // in pieces: the same bytes, a 2-chunk-and-more blob in more than one piece
      bigChunked: yield* Effect.map(chunked(s, "artifacts/r1/model/w.bin"), (c) => ({
        same: Buffer.compare(c.bytes, Buffer.from(big)) === 0,
        pieces: c.pieces > 1
      })),
      historyChunked: (yield* chunked(s, "drift/iris/history.jsonl")).bytes.toString("utf8")
    }
    const exists = [yield* s.exists("reports/r1/report.json"), yield* s.exists("reports/r2/report.json")]
    yield* s.remove("reports/r1")
    const afterRemove = [yield* s.exists("reports/r1/report.json"), yield* s.list("reports")]
    const missing = (yield* Effect.flip(s.read("artifacts/nope/model.json")))._tag
    const missingChunks = (yield* Effect.flip(s.readChunks("artifacts/nope/model.json", () => undefined)))._tag
    const badKey = (yield* Effect.flip(s.write("artifacts/../x", "y"))).message
    return { once, listed, read, exists, afterRemove, missing, missingChunks, badKey }
  })

describePg("StoragePostgres", () => {
  it.live("answers as StorageFs does; shared folders in the store, the rest local", () =>
    Effect.gen(function* () {
      const url = yield* Effect.promise(() => freshDatabase())
      const fsRoot = tmp()
      const pgRoot = tmp()
      const reference = yield* script(makeStorageFs(fsRoot))
      const got = yield* Effect.provide(
        Effect.flatMap(PostgresDatabase, (pg) => script(makeStoragePostgres(pgRoot, pg))),
        PostgresDatabaseLive(url)
      )
      expect(got).toEqual(reference)
      expect(existsSync(join(pgRoot, "artifacts"))).toBe(false)
      expect(existsSync(join(pgRoot, "datasets/iris/abc/data.csv"))).toBe(true)
    })
  )

  it.live("bytes damaged in the store are an error naming the key; identical content is stored once", () =>
    Effect.gen(function* () {
      const url = yield* Effect.promise(() => freshDatabase())
      yield* Effect.provide(
        Effect.gen(function* () {
          const pg = yield* PostgresDatabase
          const s = makeStoragePostgres(tmp(), pg)
          yield* s.write("artifacts/a/model/w.bin", big)
          yield* s.write("artifacts/b/model/w.bin", big)
          const blobs = yield* pg.query<{ n: number; chunks: number }>(
            "raw",
            "SELECT COUNT(*) AS n, MAX(chunks) AS chunks FROM blobs"
          )
          expect(blobs).toEqual([{ n: 1, chunks: 3 }])
          yield* pg.query("raw", "UPDATE blob_chunks SET data = set_byte(data, 7, get_byte(data, 7) # 1) WHERE idx = 1")
          const e = yield* Effect.flip(s.read("artifacts/b/model/w.bin"))
          expect(e.key).toBe("artifacts/b/model/w.bin")
          expect(e.message).toMatch(/does not match its SHA-256 .*the store was damaged or edited$/)
        }),
        PostgresDatabaseLive(url)
      )
    })
  )
})
