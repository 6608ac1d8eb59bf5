import { Clock, Effect, Layer } from "effect"
import { RunNotFound } from "../../domain/errors.js"
import { type RunRecord, type RunStatus, Tracker } from "../../services/Tracker.js"
import { SqliteDatabase } from "../sqlite/SqliteDatabase.js"

interface RunRow {
  run_id: string
  experiment: string
  status: RunStatus
  started_at: string
  ended_at: string | null
  error: string | null
  anchors_json: string
}

const toRecord = (r: RunRow): RunRecord => ({
  runId: r.run_id,
  experiment: r.experiment,
  status: r.status,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  error: r.error,
  anchors: JSON.parse(r.anchors_json) as Record<string, string>
})

const ANCHOR_COLUMNS = [
  "execution_id",
  "config_hash",
  "dataset_version",
  "random_seed",
  "driftgate_version",
  "code_revision"
] as const

const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

/** The experiment record in the workspace's store.db. */
export const TrackerSqlite = Layer.effect(
  Tracker,
  Effect.gen(function* () {
    const { transaction, query } = yield* SqliteDatabase
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
                 random_seed, driftgate_version, code_revision, anchors_json)
               VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`
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
              JSON.stringify(anchors)
            )
            return { runId, experiment, status: "running" as const, startedAt: at, endedAt: null, error: null, anchors }
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
              db.prepare("UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE run_id = ?").run(
                status,
                at,
                error ?? null,
                runId
              )
            })
          )
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
        })
    })
  })
)
