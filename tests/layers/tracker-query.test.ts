import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { makeTrackerMemory } from "../../src/layers/tracker/TrackerMemory.js"
import { makeTrackerSqlite } from "../../src/layers/tracker/TrackerSqlite.js"
import { SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { PostgresDatabaseLive } from "../../src/layers/postgres/PostgresDatabase.js"
import { makeTrackerPostgres } from "../../src/layers/tracker/TrackerPostgres.js"
import { cleanUpDatabases, freshDatabase, PG_URL } from "./pg-support.js"
import { type RunQuery, type RunRecord, type RunStatus, Tracker } from "../../src/services/Tracker.js"

/**
 * queryRuns (the dashboard's run list) on both layers, against an oracle: the test's own list of
 * what it recorded, filtered and sorted by plain array code written from the documented rules.
 */

const implementations = [
  { name: "TrackerMemory", layer: () => Layer.effect(Tracker, makeTrackerMemory) },
  {
    name: "TrackerSqlite (:memory:)",
    layer: () => makeTrackerSqlite({ heartbeatMs: 3_600_000 }).pipe(Layer.provide(SqliteDatabaseLive(":memory:")))
  },
  // The same oracle on PostgreSQL when a test server is configured (tests/layers/registry-postgres.test.ts
  // says so, or fails under CI=true, when it is not).
  ...(PG_URL === ""
    ? []
    : [
        {
          name: "TrackerPostgres (a fresh database on DRIFTGATE_TEST_PG_URL)",
          layer: () =>
            Layer.unwrapEffect(
              Effect.map(Effect.promise(freshDatabase), (url) =>
                makeTrackerPostgres({ heartbeatMs: 3_600_000 }).pipe(Layer.provide(PostgresDatabaseLive(url)))
              )
            )
        }
      ])
]
if (PG_URL !== "") cleanUpDatabases()

interface Recorded {
  runId: string
  experiment: string
  dataset: string
  version: string
  status: RunStatus
  startedAt: number
  endedAt: number | null
  accuracy: number
}

const EXPERIMENTS = ["iris-logreg", "Wine-rf", "breast-cancer-rf", "penguins-hgb"]
const DATASETS = ["iris", "wine", "breast_cancer"]
const STATUSES: ReadonlyArray<Exclude<RunStatus, "running" | "interrupted">> = [
  "completed",
  "failed",
  "blocked",
  "cancelled"
]

/** A deterministic mix: some runs start at the same millisecond, some never end. */
const plan = (n: number): Recorded[] =>
  Array.from({ length: n }, (_, i) => {
    const startedAt = 1000 + Math.floor(i / 3) * 1000
    const running = i % 11 === 5
    return {
      runId: `run-${String((i * 7919) % n).padStart(5, "0")}`,
      experiment: EXPERIMENTS[i % EXPERIMENTS.length]!,
      dataset: DATASETS[(i * 5) % DATASETS.length]!,
      version: `${(i % 7).toString(16)}${"ab".repeat(10)}`,
      status: running ? "running" : STATUSES[(i * 3) % STATUSES.length]!,
      startedAt,
      endedAt: running ? null : startedAt + ((i * 37) % 23) * 100,
      accuracy: ((i * 13) % 100) / 100
    }
  })

const record = (runs: ReadonlyArray<Recorded>) =>
  Effect.gen(function* () {
    const tracker = yield* Tracker
    // TestClock moves to each event's time (from 0: the SQLite layer's heartbeat, hourly here, never fires)
    const events = runs
      .flatMap((r) => [
        { at: r.startedAt, r, kind: "start" as const },
        ...(r.endedAt === null ? [] : [{ at: r.endedAt, r, kind: "end" as const }])
      ])
      .sort((a, b) => a.at - b.at || (a.kind === "start" ? -1 : 1))
    for (const e of events) {
      yield* TestClock.setTime(e.at)
      if (e.kind === "start") {
        yield* tracker.createRun({ runId: e.r.runId, experiment: e.r.experiment, anchors: {} })
        yield* tracker.setTags(e.r.runId, { dataset: e.r.dataset, dataset_version: e.r.version, model_kind: "x" })
        yield* tracker.logMetrics(e.r.runId, [
          { key: "val.accuracy", value: e.r.accuracy },
          { key: "val.accuracy", value: 0.5, step: 3 }
        ])
      } else yield* tracker.endRun(e.r.runId, e.r.status as Exclude<RunStatus, "running" | "interrupted">)
    }
  })

const iso = (ms: number) => new Date(ms).toISOString()
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const oracle = (runs: ReadonlyArray<Recorded>, q: RunQuery): string[] => {
  const sign = q.descending === false ? 1 : -1
  const newest = (a: Recorded, b: Recorded) => cmp(iso(b.startedAt), iso(a.startedAt)) || cmp(b.runId, a.runId)
  const order = (a: Recorded, b: Recorded): number => {
    switch (q.sort ?? "started_at") {
      case "started_at":
        return sign * (a.startedAt - b.startedAt || cmp(a.runId, b.runId))
      case "experiment":
        return sign * cmp(a.experiment, b.experiment) || newest(a, b)
      case "status":
        return sign * cmp(a.status, b.status) || newest(a, b)
      case "duration": {
        if (a.endedAt === null || b.endedAt === null)
          return (a.endedAt === null ? 1 : 0) - (b.endedAt === null ? 1 : 0) || newest(a, b)
        return sign * (a.endedAt - a.startedAt - (b.endedAt - b.startedAt)) || newest(a, b)
      }
    }
  }
  const offset = q.offset ?? 0
  return runs
    .filter(
      (r) =>
        (q.experiment === undefined || r.experiment === q.experiment) &&
        (q.status === undefined || r.status === q.status) &&
        (q.dataset === undefined || r.dataset === q.dataset || r.version.startsWith(q.dataset))
    )
    .sort(order)
    .slice(offset, offset + (q.limit ?? 50))
    .map((r) => r.runId)
}

const QUERIES: ReadonlyArray<RunQuery> = [
  {},
  { offset: 50 },
  { offset: 280, limit: 40 },
  { sort: "started_at", descending: false, limit: 17 },
  { sort: "experiment", limit: 30 },
  { sort: "experiment", descending: false, offset: 10, limit: 30 },
  { sort: "status", descending: false, limit: 60 },
  { sort: "duration", limit: 80 },
  { sort: "duration", descending: false, offset: 250, limit: 60 },
  { experiment: "Wine-rf", limit: 200 },
  { status: "blocked", sort: "duration" },
  { status: "running", limit: 500 },
  { dataset: "wine", experiment: "iris-logreg", limit: 500 },
  { dataset: "3abab", limit: 500 },
  { dataset: "nothing-like-this" }
]

describe.each(implementations)("Tracker.queryRuns on $name", ({ layer }) => {
  const runs = plan(300)

  it.effect("pages, filters and sorts as the oracle does, with totals, tags and only the metrics asked for", () =>
    Effect.gen(function* () {
      yield* record(runs)
      const tracker = yield* Tracker
      for (const q of QUERIES) {
        const page = yield* tracker.queryRuns({ ...q, metrics: ["val.accuracy", "val.missing"] })
        expect(
          page.runs.map((s) => s.run.runId),
          JSON.stringify(q)
        ).toEqual(oracle(runs, q))
        expect(page.total, JSON.stringify(q)).toBe(oracle(runs, { ...q, offset: 0, limit: 1e9 }).length)
        for (const s of page.runs) {
          const r = runs.find((x) => x.runId === s.run.runId)!
          expect(s.metrics).toEqual({ "val.accuracy": r.accuracy })
          expect(s.tags["dataset"]).toBe(r.dataset)
          expect(s.run.endedAt).toBe(r.endedAt === null ? null : iso(r.endedAt))
        }
      }
      const page = yield* tracker.queryRuns({ limit: 1 })
      expect(page.experiments).toEqual([...new Set(runs.map((r) => r.experiment))].sort(cmp))
      expect(page.datasets).toEqual([...DATASETS].sort(cmp))
    }).pipe(Effect.provide(layer()))
  )

  it.effect("bounds the page size (1…500) and a negative offset", () =>
    Effect.gen(function* () {
      yield* record(runs)
      const tracker = yield* Tracker
      expect((yield* tracker.queryRuns({ limit: 100_000 })).runs).toHaveLength(300)
      expect((yield* tracker.queryRuns({ limit: 0 })).runs).toHaveLength(1)
      const first: RunRecord | undefined = (yield* tracker.queryRuns({ offset: -5, limit: 1 })).runs[0]?.run
      expect(first?.runId).toBe(oracle(runs, { limit: 1 })[0])
    }).pipe(Effect.provide(layer()))
  )
})
