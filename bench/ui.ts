/**
 * The dashboard's run list at 10,000 runs: a SQLite store filled through the Tracker service
 * (each run created, tagged, given metrics and ended, as a pipeline does), then /ui/runs pages
 * rendered over HTTP (fastify inject) — the first page, a deep page, a filtered page and a page
 * sorted by duration. The peer, measured in the same run on the same file, is the bare SQL a
 * hand-written list would run (better-sqlite3: SELECT … ORDER BY started_at DESC LIMIT 50 OFFSET n),
 * the floor the page (count, tags, metrics, HTML) is compared with.
 *
 * Target: every page p50 ≤ 100 ms at 10,000 runs. Exit 1 when missed.
 *
 *   npx tsx bench/ui.ts [runs=10000]
 */
import type BetterSqlite3 from "better-sqlite3"
import { Effect, Layer, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { RegistrySqlite } from "../src/layers/registry/RegistrySqlite.js"
import { SqliteDatabaseLive } from "../src/layers/sqlite/SqliteDatabase.js"
import { StorageFs } from "../src/layers/storage/StorageFs.js"
import { makeTrackerSqlite } from "../src/layers/tracker/TrackerSqlite.js"
import { registerUi } from "../src/programs/ui/routes.js"
import { Tracker } from "../src/services/Tracker.js"

const N = Number(process.argv[2] ?? "10000")
const TARGET_MS = 100
const dir = mkdtempSync(join(tmpdir(), "driftgate-ui-bench-"))
const store = join(dir, "store.db")
const layer = Layer.mergeAll(makeTrackerSqlite({ heartbeatMs: 3_600_000 }), RegistrySqlite, StorageFs(dir)).pipe(
  Layer.provideMerge(SqliteDatabaseLive(store))
)
const runtime = ManagedRuntime.make(layer)
const pipelines = ["iris-logreg", "wine-rf", "breast-cancer-rf", "penguins-hgb", "california-hgb"]
const statuses = ["completed", "completed", "completed", "blocked", "failed", "cancelled"] as const

const fillStarted = performance.now()
await runtime.runPromise(
  Effect.gen(function* () {
    const tracker = yield* Tracker
    for (let i = 0; i < N; i++) {
      const runId = `bench-${String(i).padStart(6, "0")}`
      yield* tracker.createRun({
        runId,
        experiment: pipelines[i % pipelines.length]!,
        anchors: { dataset_version: (i % 13).toString(16).repeat(64) }
      })
      yield* tracker.setTags(runId, { dataset: `ds${i % 13}`, model_kind: "random_forest" })
      yield* tracker.logMetrics(runId, [
        { key: "val.accuracy", value: (i % 97) / 97 },
        { key: "val.f1_weighted", value: (i % 89) / 89 },
        { key: "test.accuracy", value: (i % 83) / 83 }
      ])
      yield* tracker.endRun(runId, statuses[i % statuses.length]!)
    }
  })
)
const fillS = (performance.now() - fillStarted) / 1000

const { default: Fastify } = await import("fastify")
const app = Fastify({ logger: false })
await registerUi(app, { runtime: await runtime.runtime() })

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = async (f: () => unknown | Promise<unknown>, reps = 15) => {
  await f()
  const xs: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    await f()
    xs.push(performance.now() - t)
  }
  return p50(xs)
}

const require = createRequire(import.meta.url)
const Database = require("better-sqlite3") as typeof BetterSqlite3
const db = new Database(store, { readonly: true })
const bare = db.prepare("SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 50 OFFSET ?")

const pages = [
  ["first page", "/ui/runs", 0],
  ["page 150 of 200", "/ui/runs?page=150", 149 * 50],
  ["filtered: pipeline + status + dataset", "/ui/runs?experiment=wine-rf&status=completed&dataset=ds3", 0],
  ["sorted by duration, page 40", "/ui/runs?sort=duration&page=40", 39 * 50]
] as const

console.log(
  `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`
)
console.log(`store: ${N} runs written through TrackerSqlite in ${fillS.toFixed(1)} s`)
let missed = 0
for (const [name, url, offset] of pages) {
  let status = 0
  const page = await time(async () => {
    status = (await app.inject({ url })).statusCode
  })
  const peer = await time(() => bare.all(offset))
  const ok = status === 200 && page <= TARGET_MS
  if (!ok) missed++
  console.log(
    `${name.padEnd(40)} dashboard page p50 ${page.toFixed(1).padStart(6)} ms · bare SQL (peer) ${peer.toFixed(2).padStart(6)} ms · target ≤ ${TARGET_MS} ms ${ok ? "ok" : `MISSED (HTTP ${status})`}`
  )
}
db.close()
await app.close()
await runtime.dispose()
rmSync(dir, { recursive: true, force: true })
process.exit(missed > 0 ? 1 : 0)
