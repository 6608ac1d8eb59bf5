import { Clock, Effect, Layer } from "effect"
import { RunNotFound } from "../../domain/errors.js"
import { LINEAGE_KEYS } from "../../domain/lineage.js"
import { currentProcess } from "./runLiveness.js"
import {
  type MetricRecord,
  RUN_PAGE_MAX,
  type RunDetail,
  type RunRecord,
  type RunSort,
  Tracker
} from "../../services/Tracker.js"

interface MutableRun {
  run: RunRecord
  params: Record<string, string>
  metrics: Map<string, MetricRecord>
  tags: Record<string, string>
  artifacts: Map<string, { name: string; path: string; sha256: string | null }>
}

/** Code-unit order, as SQLite's BINARY collation sorts. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const durationMs = (r: RunRecord) => (r.endedAt === null ? null : Date.parse(r.endedAt) - Date.parse(r.startedAt))
const newestFirst = (a: RunRecord, b: RunRecord) => cmp(b.startedAt, a.startedAt) || cmp(b.runId, a.runId)

/** The same orders as TrackerSqlite's SORT_SQL (sign: 1 ascending, -1 descending). */
const comparators: Record<RunSort, (sign: number) => (a: RunRecord, b: RunRecord) => number> = {
  started_at: (sign) => (a, b) => sign * (cmp(a.startedAt, b.startedAt) || cmp(a.runId, b.runId)),
  experiment: (sign) => (a, b) => sign * cmp(a.experiment, b.experiment) || newestFirst(a, b),
  status: (sign) => (a, b) => sign * cmp(a.status, b.status) || newestFirst(a, b),
  duration: (sign) => (a, b) => {
    const da = durationMs(a)
    const db = durationMs(b)
    if (da === null || db === null) return (da === null ? 1 : 0) - (db === null ? 1 : 0) || newestFirst(a, b)
    return sign * (da - db) || newestFirst(a, b)
  }
}

const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

/** The experiment record in memory, for tests and embedding; same behaviour as TrackerSqlite. */
export const makeTrackerMemory = Effect.sync(() => {
  const runs = new Map<string, MutableRun>()
  const here = currentProcess()
  const get = (runId: string) => {
    const r = runs.get(runId)
    return r ? Effect.succeed(r) : Effect.fail(new RunNotFound({ runId }))
  }
  const detail = (r: MutableRun): RunDetail => ({
    run: r.run,
    params: { ...r.params },
    tags: { ...r.tags },
    metrics: [...r.metrics.values()].sort((a, b) => a.key.localeCompare(b.key) || a.step - b.step),
    artifacts: [...r.artifacts.values()].sort((a, b) => a.name.localeCompare(b.name))
  })
  return Tracker.of({
    createRun: ({ runId, experiment, anchors }) =>
      Effect.map(now, (at) => {
        const run: RunRecord = {
          runId,
          experiment,
          status: "running",
          startedAt: at,
          endedAt: null,
          error: null,
          anchors: { ...anchors },
          process: { pid: here.pid, host: here.host },
          heartbeatAt: at,
          interruptedAt: null
        }
        runs.set(runId, { run, params: {}, metrics: new Map(), tags: {}, artifacts: new Map() })
        return run
      }),
    logParams: (runId, params) =>
      Effect.map(get(runId), (r) => {
        for (const [k, v] of Object.entries(params)) r.params[k] = v === null ? "null" : String(v)
      }),
    logMetrics: (runId, metrics) =>
      Effect.flatMap(get(runId), (r) =>
        Effect.map(now, (at) => {
          for (const m of metrics)
            r.metrics.set(`${m.key}\u0000${m.step ?? 0}`, { key: m.key, value: m.value, step: m.step ?? 0, at })
        })
      ),
    setTags: (runId, tags) =>
      Effect.map(get(runId), (r) => {
        Object.assign(r.tags, tags)
        const anchorTags = Object.entries(tags).filter(
          ([k]) => (LINEAGE_KEYS as ReadonlyArray<string>).includes(k) && k !== "run_id"
        )
        if (anchorTags.length > 0)
          r.run = { ...r.run, anchors: { ...r.run.anchors, ...Object.fromEntries(anchorTags) } }
      }),
    logArtifact: (runId, a) =>
      Effect.map(get(runId), (r) => {
        r.artifacts.set(a.name, { ...a })
      }),
    endRun: (runId, status, error) =>
      Effect.flatMap(get(runId), (r) =>
        Effect.map(now, (at) => {
          r.run = { ...r.run, status, endedAt: at, error: error ?? null }
        })
      ),
    // A store in memory lives and dies with its process: none of its runs can be orphaned.
    recoverInterrupted: () => Effect.succeed([]),
    getRun: (runId) => Effect.map(get(runId), detail),
    listRuns: (filter) =>
      Effect.sync(() =>
        [...runs.values()]
          .map((r) => r.run)
          .filter((r) => filter?.experiment === undefined || r.experiment === filter.experiment)
          .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId))
          .slice(0, filter?.limit ?? 1000)
      ),
    queryRuns: (q) =>
      Effect.sync(() => {
        const all = [...runs.values()]
        const matching = all.filter(
          (r) =>
            (q.experiment === undefined || r.run.experiment === q.experiment) &&
            (q.status === undefined || r.run.status === q.status) &&
            (q.dataset === undefined ||
              r.tags["dataset"] === q.dataset ||
              (r.run.anchors["dataset_version"] ?? "").startsWith(q.dataset))
        )
        const sign = q.descending === false ? 1 : -1
        const order = comparators[q.sort ?? "started_at"](sign)
        matching.sort((a, b) => order(a.run, b.run))
        const limit = Math.max(1, Math.min(RUN_PAGE_MAX, Math.floor(q.limit ?? 50)))
        const offset = Math.max(0, Math.floor(q.offset ?? 0))
        const keys = q.metrics ?? []
        return {
          total: matching.length,
          runs: matching.slice(offset, offset + limit).map((r) => ({
            run: r.run,
            tags: { ...r.tags },
            metrics: Object.fromEntries(
              keys.flatMap((k) => {
                const m = r.metrics.get(`${k}\u00000`)
                return m === undefined ? [] : [[k, m.value] as const]
              })
            )
          })),
          experiments: [...new Set(all.map((r) => r.run.experiment))].sort(cmp),
          datasets: [
            ...new Set(all.flatMap((r) => (r.tags["dataset"] === undefined ? [] : [r.tags["dataset"]])))
          ].sort()
        }
      })
  })
})

export const TrackerMemory = Layer.effect(Tracker, makeTrackerMemory)
