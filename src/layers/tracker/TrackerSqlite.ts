import { Clock, Config, Duration, Effect, Layer, Schedule } from "effect"
import { RunNotFound } from "../../domain/errors.js"
import { RUN_PAGE_MAX, type RunRecord, type RunStatus, type RunSummary, Tracker } from "../../services/Tracker.js"
import { SqliteDatabase } from "../sqlite/SqliteDatabase.js"
import { currentProcess, goneReason, processAlive, type RunProcess } from "./runLiveness.js"

interface RunRow {
  run_id: string
  experiment: string
  status: RunStatus
  started_at: string
  ended_at: string | null
  error: string | null
  anchors_json: string
  pid: number | null
  host: string | null
  process_start: string | null
  heartbeat_at: string | null
  interrupted_at: string | null
}

const toRecord = (r: RunRow): RunRecord => ({
  runId: r.run_id,
  experiment: r.experiment,
  status: r.status,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  error: r.error,
  anchors: JSON.parse(r.anchors_json) as Record<string, string>,
  process: r.pid !== null && r.host !== null ? { pid: r.pid, host: r.host } : null,
  heartbeatAt: r.heartbeat_at,
  interruptedAt: r.interrupted_at
})

const ANCHOR_COLUMNS = [
  "execution_id",
  "config_hash",
  "dataset_version",
  "random_seed",
  "driftgate_version",
  "code_revision"
] as const

/** ORDER BY of each sort (durations rounded to whole milliseconds, so equal ones tie), the run id last so pages never overlap (values are fixed here, never from input). */
const SORT_SQL = {
  started_at: (dir: string) => `started_at ${dir}, run_id ${dir}`,
  experiment: (dir: string) => `experiment ${dir}, started_at DESC, run_id DESC`,
  status: (dir: string) => `status ${dir}, started_at DESC, run_id DESC`,
  duration: (dir: string) =>
    `ended_at IS NULL, round((julianday(ended_at) - julianday(started_at)) * 86400000) ${dir}, started_at DESC, run_id DESC`
} as const

const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

export interface TrackerSqliteOptions {
  /** How often a running run's process says it is alive (one UPDATE by primary key). */
  readonly heartbeatMs?: number
  /** A run of another host (or from before runs kept their pid) silent this long is interrupted. */
  readonly staleAfterMs?: number
  /** This process, and how to tell whether another one is alive (tests replace them). */
  readonly here?: RunProcess
  readonly alive?: (p: { readonly pid: number; readonly start: string | null }) => boolean
}

export const HEARTBEAT_MS = 30_000
export const STALE_AFTER_MS = 15 * 60_000

/**
 * The experiment record in the workspace's store.db. Opening it marks the runs whose process is
 * gone as `interrupted`; while it is open, the runs this process created send a heartbeat.
 */
export const makeTrackerSqlite = (options: TrackerSqliteOptions = {}) =>
  Layer.scoped(
    Tracker,
    Effect.gen(function* () {
      const tracker = yield* trackerOn(options)
      // Best effort: a read-only snapshot or a busy store leaves the sweep to the next command.
      yield* Effect.ignore(tracker.recoverInterrupted())
      return tracker
    })
  )

/** DRIFTGATE_RUN_STALE_AFTER_S overrides the bound for runs of other hosts (default 15 min). */
export const TrackerSqlite = Layer.unwrapEffect(
  Config.integer("DRIFTGATE_RUN_STALE_AFTER_S").pipe(
    Config.option,
    Effect.map((stale) =>
      makeTrackerSqlite(stale._tag === "Some" && stale.value > 0 ? { staleAfterMs: stale.value * 1000 } : {})
    ),
    Effect.orElseSucceed(() => makeTrackerSqlite())
  )
)

const trackerOn = (options: TrackerSqliteOptions) =>
  Effect.gen(function* () {
    const { transaction, query } = yield* SqliteDatabase
    const here = options.here ?? currentProcess()
    const alive = options.alive ?? processAlive
    const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS
    /** Runs this process created and has not ended: the heartbeat keeps them alive. */
    const active = new Set<string>()
    yield* Effect.gen(function* () {
      if (active.size === 0) return
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* query("run.heartbeat", (db) => {
        const st = db.prepare("UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND status = 'running'")
        for (const runId of active) st.run(at, runId)
      })
    }).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Duration.millis(options.heartbeatMs ?? HEARTBEAT_MS))),
      Effect.forkScoped
    )
    const mustExist = (runId: string) =>
      query("run.get", (db) => db.prepare("SELECT 1 FROM runs WHERE run_id = ?").get(runId)).pipe(
        Effect.flatMap((row) => (row ? Effect.void : Effect.fail(new RunNotFound({ runId }))))
      )
    return Tracker.of({
      createRun: ({ runId, experiment, anchors }) =>
        Effect.flatMap(now, (at) =>
          transaction("run.create", (db) => {
            db.prepare("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)").run(experiment, at)
            db.prepare(
              `INSERT INTO runs (run_id, experiment, status, started_at, execution_id, config_hash, dataset_version,
                 random_seed, driftgate_version, code_revision, anchors_json, pid, host, process_start, heartbeat_at)
               VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
            ).run(
              runId,
              experiment,
              at,
              anchors.execution_id ?? null,
              anchors.config_hash ?? null,
              anchors.dataset_version ?? null,
              anchors.random_seed ?? null,
              anchors.driftgate_version ?? null,
              anchors.code_revision ?? null,
              JSON.stringify(anchors),
              here.pid,
              here.host,
              here.start,
              at
            )
            active.add(runId)
            return {
              runId,
              experiment,
              status: "running" as const,
              startedAt: at,
              endedAt: null,
              error: null,
              anchors,
              process: { pid: here.pid, host: here.host },
              heartbeatAt: at,
              interruptedAt: null
            } satisfies RunRecord
          })
        ),
      logParams: (runId, params) =>
        Effect.zipRight(
          mustExist(runId),
          transaction("run.params", (db) => {
            const st = db.prepare("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)")
            for (const [k, v] of Object.entries(params)) st.run(runId, k, v === null ? "null" : String(v))
          })
        ),
      logMetrics: (runId, metrics) =>
        Effect.zipRight(
          mustExist(runId),
          Effect.flatMap(now, (at) =>
            transaction("run.metrics", (db) => {
              const st = db.prepare(
                "INSERT OR REPLACE INTO metrics (run_id, key, value, step, at) VALUES (?, ?, ?, ?, ?)"
              )
              for (const m of metrics) st.run(runId, m.key, m.value, m.step ?? 0, at)
            })
          )
        ),
      setTags: (runId, tags) =>
        Effect.zipRight(
          mustExist(runId),
          transaction("run.tags", (db) => {
            const st = db.prepare("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)")
            for (const [k, v] of Object.entries(tags)) st.run(runId, k, v)
            // Lineage anchors learnt during the run (dataset_version) join the run's anchors.
            const anchorTags = Object.entries(tags).filter(([k]) =>
              (ANCHOR_COLUMNS as ReadonlyArray<string>).includes(k)
            )
            if (anchorTags.length > 0) {
              const row = db.prepare("SELECT anchors_json FROM runs WHERE run_id = ?").get(runId) as {
                anchors_json: string
              }
              const anchors = { ...JSON.parse(row.anchors_json), ...Object.fromEntries(anchorTags) }
              db.prepare("UPDATE runs SET anchors_json = ? WHERE run_id = ?").run(JSON.stringify(anchors), runId)
              for (const [k, v] of anchorTags) db.prepare(`UPDATE runs SET ${k} = ? WHERE run_id = ?`).run(v, runId)
            }
          })
        ),
      logArtifact: (runId, a) =>
        Effect.zipRight(
          mustExist(runId),
          transaction("run.artifact", (db) => {
            db.prepare("INSERT OR REPLACE INTO artifacts (run_id, name, path, sha256) VALUES (?, ?, ?, ?)").run(
              runId,
              a.name,
              a.path,
              a.sha256
            )
          })
        ),
      endRun: (runId, status, error) =>
        Effect.zipRight(
          mustExist(runId),
          Effect.flatMap(now, (at) =>
            transaction("run.end", (db) => {
              // a run wrongly presumed gone (another host's heartbeat was late) still ends as it ended;
              // interrupted_at stays as the trace of that
              db.prepare("UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE run_id = ?").run(
                status,
                at,
                error ?? null,
                runId
              )
              active.delete(runId)
            })
          )
        ),
      recoverInterrupted: () =>
        Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
          transaction("run.recover", (db) => {
            const running = db
              .prepare(
                "SELECT run_id, pid, host, process_start, started_at, heartbeat_at FROM runs WHERE status = 'running'"
              )
              .all() as Array<{
              run_id: string
              pid: number | null
              host: string | null
              process_start: string | null
              started_at: string
              heartbeat_at: string | null
            }>
            if (running.length === 0) return []
            const at = new Date(nowMs).toISOString()
            const mark = db.prepare(
              "UPDATE runs SET status = 'interrupted', interrupted_at = ?, ended_at = ?, error = ? WHERE run_id = ? AND status = 'running'"
            )
            const versionsOf = db.prepare("SELECT name, version, stage FROM model_versions WHERE run_id = ?")
            const marked: RunRecord[] = []
            for (const r of running) {
              if (active.has(r.run_id)) continue
              const lastSeen = r.heartbeat_at ?? r.started_at
              const why = goneReason(
                { pid: r.pid, host: r.host, start: r.process_start, lastSeen },
                here,
                nowMs,
                staleAfterMs,
                alive
              )
              if (why === undefined) continue
              const versions = versionsOf.all(r.run_id) as Array<{ name: string; version: number; stage: string }>
              const registered =
                versions.length === 0
                  ? ""
                  : ` Before it stopped it had registered ${versions.map((v) => `${v.name} v${v.version} (now ${v.stage})`).join(", ")}; that version and its audit record stand.`
              mark.run(
                at,
                lastSeen,
                `interrupted: ${why}; detected at ${at} by pid ${here.pid} on ${here.host}.${registered}`,
                r.run_id
              )
              marked.push(toRecord(db.prepare("SELECT * FROM runs WHERE run_id = ?").get(r.run_id) as RunRow))
            }
            return marked
          })
        ),
      getRun: (runId) =>
        query("run.get", (db) => {
          const run = db.prepare("SELECT * FROM runs WHERE run_id = ?").get(runId) as RunRow | undefined
          if (!run) return undefined
          const params = Object.fromEntries(
            (
              db.prepare("SELECT key, value FROM params WHERE run_id = ? ORDER BY key").all(runId) as Array<{
                key: string
                value: string
              }>
            ).map((r) => [r.key, r.value])
          )
          const tags = Object.fromEntries(
            (
              db.prepare("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key").all(runId) as Array<{
                key: string
                value: string
              }>
            ).map((r) => [r.key, r.value])
          )
          const metrics = db
            .prepare("SELECT key, value, step, at FROM metrics WHERE run_id = ? ORDER BY key, step")
            .all(runId) as Array<{ key: string; value: number; step: number; at: string }>
          const artifacts = db
            .prepare("SELECT name, path, sha256 FROM artifacts WHERE run_id = ? ORDER BY name")
            .all(runId) as Array<{ name: string; path: string; sha256: string | null }>
          return { run: toRecord(run), params, tags, metrics, artifacts }
        }).pipe(Effect.flatMap((d) => (d ? Effect.succeed(d) : Effect.fail(new RunNotFound({ runId }))))),
      listRuns: (filter) =>
        query("run.list", (db) => {
          const limit = filter?.limit ?? 1000
          const rows =
            filter?.experiment !== undefined
              ? db
                  .prepare("SELECT * FROM runs WHERE experiment = ? ORDER BY started_at DESC, run_id DESC LIMIT ?")
                  .all(filter.experiment, limit)
              : db.prepare("SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?").all(limit)
          return (rows as RunRow[]).map(toRecord)
        }),
      queryRuns: (q) =>
        query("run.page", (db) => {
          const where: string[] = []
          const args: Array<string | number> = []
          if (q.experiment !== undefined) {
            where.push("experiment = ?")
            args.push(q.experiment)
          }
          if (q.status !== undefined) {
            where.push("status = ?")
            args.push(q.status)
          }
          if (q.dataset !== undefined) {
            where.push(
              "(substr(dataset_version, 1, length(?)) = ? OR run_id IN (SELECT run_id FROM tags WHERE key = 'dataset' AND value = ?))"
            )
            args.push(q.dataset, q.dataset, q.dataset)
          }
          const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""
          const total = (db.prepare(`SELECT count(*) AS n FROM runs ${clause}`).get(...args) as { n: number }).n
          const limit = Math.max(1, Math.min(RUN_PAGE_MAX, Math.floor(q.limit ?? 50)))
          const offset = Math.max(0, Math.floor(q.offset ?? 0))
          const order = SORT_SQL[q.sort ?? "started_at"](q.descending === false ? "ASC" : "DESC")
          const rows = db
            .prepare(`SELECT * FROM runs ${clause} ORDER BY ${order} LIMIT ? OFFSET ?`)
            .all(...args, limit, offset) as RunRow[]
          const ids = rows.map((r) => r.run_id)
          const tags = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]))
          const metrics = new Map<string, Record<string, number>>(ids.map((id) => [id, {}]))
          if (ids.length > 0) {
            const marks = ids.map(() => "?").join(",")
            for (const t of db
              .prepare(`SELECT run_id, key, value FROM tags WHERE run_id IN (${marks})`)
              .all(...ids) as Array<{
              run_id: string
              key: string
              value: string
            }>)
              tags.get(t.run_id)![t.key] = t.value
            const keys = q.metrics ?? []
            if (keys.length > 0) {
              const keyMarks = keys.map(() => "?").join(",")
              for (const m of db
                .prepare(
                  `SELECT run_id, key, value FROM metrics WHERE step = 0 AND run_id IN (${marks}) AND key IN (${keyMarks})`
                )
                .all(...ids, ...keys) as Array<{ run_id: string; key: string; value: number }>)
                metrics.get(m.run_id)![m.key] = m.value
            }
          }
          const experiments = (
            db.prepare("SELECT DISTINCT experiment FROM runs ORDER BY experiment").all() as Array<{
              experiment: string
            }>
          ).map((r) => r.experiment)
          const datasets = (
            db.prepare("SELECT DISTINCT value FROM tags WHERE key = 'dataset' ORDER BY value").all() as Array<{
              value: string
            }>
          ).map((r) => r.value)
          const runs: RunSummary[] = rows.map((r) => ({
            run: toRecord(r),
            tags: tags.get(r.run_id)!,
            metrics: metrics.get(r.run_id)!
          }))
          return { total, runs, experiments, datasets }
        })
    })
  })
