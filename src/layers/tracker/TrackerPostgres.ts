import { Clock, Config, Duration, Effect, Layer, Schedule } from "effect"
import { RunNotFound } from "../../domain/errors.js"
import { RUN_PAGE_MAX, type RunRecord, type RunStatus, type RunSummary, Tracker } from "../../services/Tracker.js"
import { PostgresDatabase } from "../postgres/PostgresDatabase.js"
import { currentProcess, goneReason, processAlive, type RunProcess } from "./runLiveness.js"
import { HEARTBEAT_MS, STALE_AFTER_MS } from "./TrackerSqlite.js"

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

/** The same orders as the SQLite tracker (run ids compared bytewise, as SQLite does). */
const SORT_SQL = {
  started_at: (dir: string) => `started_at COLLATE "C" ${dir}, run_id COLLATE "C" ${dir}`,
  experiment: (dir: string) => `experiment COLLATE "C" ${dir}, started_at COLLATE "C" DESC, run_id COLLATE "C" DESC`,
  status: (dir: string) => `status COLLATE "C" ${dir}, started_at COLLATE "C" DESC, run_id COLLATE "C" DESC`,
  duration: (dir: string) =>
    `ended_at IS NULL, round(extract(epoch from (ended_at::timestamptz - started_at::timestamptz)) * 1000) ${dir}, started_at COLLATE "C" DESC, run_id COLLATE "C" DESC`
} as const

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

const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms).toISOString()))

export interface TrackerPostgresOptions {
  readonly heartbeatMs?: number
  readonly staleAfterMs?: number
  readonly here?: RunProcess
  readonly alive?: (p: { readonly pid: number; readonly start: string | null }) => boolean
}

/**
 * The experiment record on the shared PostgreSQL store: the same tables and rules as TrackerSqlite
 * (runs, params, metrics with step, tags, artifacts; heartbeats, and the sweep that marks runs
 * whose process is gone as `interrupted`, run once when the layer opens).
 */
export const makeTrackerPostgres = (options: TrackerPostgresOptions = {}) =>
  Layer.scoped(
    Tracker,
    Effect.gen(function* () {
      const tracker = yield* trackerOn(options)
      yield* Effect.ignore(tracker.recoverInterrupted())
      return tracker
    })
  )

/** DRIFTGATE_RUN_STALE_AFTER_S overrides the bound for runs of other hosts (default 15 min). */
export const TrackerPostgres = Layer.unwrapEffect(
  Config.integer("DRIFTGATE_RUN_STALE_AFTER_S").pipe(
    Config.option,
    Effect.map((stale) =>
      makeTrackerPostgres(stale._tag === "Some" && stale.value > 0 ? { staleAfterMs: stale.value * 1000 } : {})
    ),
    Effect.orElseSucceed(() => makeTrackerPostgres())
  )
)

const trackerOn = (options: TrackerPostgresOptions) =>
  Effect.gen(function* () {
    const pg = yield* PostgresDatabase
    const here = options.here ?? currentProcess()
    const alive = options.alive ?? processAlive
    const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS
    const active = new Set<string>()
    yield* Effect.gen(function* () {
      if (active.size === 0) return
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* pg.query(
        "run.heartbeat",
        "UPDATE runs SET heartbeat_at = $1 WHERE run_id = ANY($2) AND status = 'running'",
        [at, [...active]]
      )
    }).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Duration.millis(options.heartbeatMs ?? HEARTBEAT_MS))),
      Effect.forkScoped
    )
    const mustExist = (runId: string) =>
      pg
        .query("run.get", "SELECT 1 FROM runs WHERE run_id = $1", [runId])
        .pipe(Effect.flatMap((rows) => (rows.length > 0 ? Effect.void : Effect.fail(new RunNotFound({ runId })))))
    return Tracker.of({
      createRun: ({ runId, experiment, anchors }) =>
        Effect.flatMap(now, (at) =>
          pg.transaction("run.create", async (c) => {
            await c.query("INSERT INTO experiments (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
              experiment,
              at
            ])
            await c.query(
              `INSERT INTO runs (run_id, experiment, status, started_at, execution_id, config_hash, dataset_version,
                 random_seed, driftgate_version, code_revision, anchors_json, pid, host, process_start, heartbeat_at)
               VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
              [
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
              ]
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
          pg.transaction("run.params", async (c) => {
            for (const [k, v] of Object.entries(params))
              await c.query(
                "INSERT INTO params (run_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                [runId, k, v === null ? "null" : String(v)]
              )
          })
        ),
      logMetrics: (runId, metrics) =>
        Effect.zipRight(
          mustExist(runId),
          Effect.flatMap(now, (at) =>
            pg.transaction("run.metrics", async (c) => {
              for (const m of metrics)
                await c.query(
                  `INSERT INTO metrics (run_id, key, value, step, at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, at = excluded.at`,
                  [runId, m.key, m.value, m.step ?? 0, at]
                )
            })
          )
        ),
      setTags: (runId, tags) =>
        Effect.zipRight(
          mustExist(runId),
          pg.transaction("run.tags", async (c) => {
            for (const [k, v] of Object.entries(tags))
              await c.query(
                "INSERT INTO tags (run_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                [runId, k, v]
              )
            const anchorTags = Object.entries(tags).filter(([k]) =>
              (ANCHOR_COLUMNS as ReadonlyArray<string>).includes(k)
            )
            if (anchorTags.length > 0) {
              const row = (
                await c.query<{ anchors_json: string }>("SELECT anchors_json FROM runs WHERE run_id = $1 FOR UPDATE", [
                  runId
                ])
              ).rows[0]
              const anchors = { ...JSON.parse(row?.anchors_json ?? "{}"), ...Object.fromEntries(anchorTags) }
              await c.query("UPDATE runs SET anchors_json = $1 WHERE run_id = $2", [JSON.stringify(anchors), runId])
              // the column names come from ANCHOR_COLUMNS, never from the caller
              for (const [k, v] of anchorTags) await c.query(`UPDATE runs SET ${k} = $1 WHERE run_id = $2`, [v, runId])
            }
          })
        ),
      logArtifact: (runId, a) =>
        Effect.zipRight(
          mustExist(runId),
          pg.query(
            "run.artifact",
            `INSERT INTO artifacts (run_id, name, path, sha256) VALUES ($1, $2, $3, $4)
             ON CONFLICT (run_id, name) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256`,
            [runId, a.name, a.path, a.sha256]
          )
        ),
      endRun: (runId, status, error) =>
        Effect.zipRight(
          mustExist(runId),
          Effect.flatMap(now, (at) =>
            pg
              .query("run.end", "UPDATE runs SET status = $1, ended_at = $2, error = $3 WHERE run_id = $4", [
                status,
                at,
                error ?? null,
                runId
              ])
              .pipe(Effect.tap(() => Effect.sync(() => active.delete(runId))))
          )
        ),
      recoverInterrupted: () =>
        Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
          pg.transaction("run.recover", async (c) => {
            const running = (
              await c.query<{
                run_id: string
                pid: number | null
                host: string | null
                process_start: string | null
                started_at: string
                heartbeat_at: string | null
              }>(
                "SELECT run_id, pid, host, process_start, started_at, heartbeat_at FROM runs WHERE status = 'running' FOR UPDATE SKIP LOCKED"
              )
            ).rows
            const at = new Date(nowMs).toISOString()
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
              const versions = (
                await c.query<{ name: string; version: number; stage: string }>(
                  "SELECT name, version, stage FROM model_versions WHERE run_id = $1 ORDER BY name, version",
                  [r.run_id]
                )
              ).rows
              const registered =
                versions.length === 0
                  ? ""
                  : ` Before it stopped it had registered ${versions.map((v) => `${v.name} v${v.version} (now ${v.stage})`).join(", ")}; that version and its audit record stand.`
              const row = (
                await c.query<RunRow>(
                  "UPDATE runs SET status = 'interrupted', interrupted_at = $1, ended_at = $2, error = $3 WHERE run_id = $4 AND status = 'running' RETURNING *",
                  [
                    at,
                    lastSeen,
                    `interrupted: ${why}; detected at ${at} by pid ${here.pid} on ${here.host}.${registered}`,
                    r.run_id
                  ]
                )
              ).rows[0]
              if (row !== undefined) marked.push(toRecord(row))
            }
            return marked
          })
        ),
      getRun: (runId) =>
        pg
          .run("run.get", async () => {
            const run = (await pg.pool.query<RunRow>("SELECT * FROM runs WHERE run_id = $1", [runId])).rows[0]
            if (run === undefined) return undefined
            const kv = async (table: "params" | "tags") =>
              Object.fromEntries(
                (
                  await pg.pool.query<{ key: string; value: string }>(
                    `SELECT key, value FROM ${table} WHERE run_id = $1 ORDER BY key COLLATE "C"`,
                    [runId]
                  )
                ).rows.map((r) => [r.key, r.value])
              )
            const metrics = (
              await pg.pool.query<{ key: string; value: number; step: number; at: string }>(
                'SELECT key, value, step, at FROM metrics WHERE run_id = $1 ORDER BY key COLLATE "C", step',
                [runId]
              )
            ).rows
            const artifacts = (
              await pg.pool.query<{ name: string; path: string; sha256: string | null }>(
                'SELECT name, path, sha256 FROM artifacts WHERE run_id = $1 ORDER BY name COLLATE "C"',
                [runId]
              )
            ).rows
            return { run: toRecord(run), params: await kv("params"), tags: await kv("tags"), metrics, artifacts }
          })
          .pipe(Effect.flatMap((d) => (d ? Effect.succeed(d) : Effect.fail(new RunNotFound({ runId }))))),
      listRuns: (filter) =>
        Effect.map(
          filter?.experiment !== undefined
            ? pg.query<RunRow>(
                "run.list",
                'SELECT * FROM runs WHERE experiment = $1 ORDER BY started_at DESC, run_id COLLATE "C" DESC LIMIT $2',
                [filter.experiment, filter?.limit ?? 1000]
              )
            : pg.query<RunRow>(
                "run.list",
                'SELECT * FROM runs ORDER BY started_at DESC, run_id COLLATE "C" DESC LIMIT $1',
                [filter?.limit ?? 1000]
              ),
          (rows) => rows.map(toRecord)
        ),
      queryRuns: (q) =>
        pg.run("run.page", async () => {
          const where: string[] = []
          const args: Array<string | number> = []
          const arg = (v: string | number) => {
            args.push(v)
            return `$${args.length}`
          }
          if (q.experiment !== undefined) where.push(`experiment = ${arg(q.experiment)}`)
          if (q.status !== undefined) where.push(`status = ${arg(q.status)}`)
          if (q.dataset !== undefined) {
            const d = arg(q.dataset)
            where.push(
              `(substr(dataset_version, 1, length(${d})) = ${d} OR run_id IN (SELECT run_id FROM tags WHERE key = 'dataset' AND value = ${d}))`
            )
          }
          const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""
          const total = Number(
            (await pg.pool.query<{ n: string }>(`SELECT count(*) AS n FROM runs ${clause}`, args)).rows[0]!.n
          )
          const limit = Math.max(1, Math.min(RUN_PAGE_MAX, Math.floor(q.limit ?? 50)))
          const offset = Math.max(0, Math.floor(q.offset ?? 0))
          const order = SORT_SQL[q.sort ?? "started_at"](q.descending === false ? "ASC" : "DESC")
          const rows = (
            await pg.pool.query<RunRow>(
              `SELECT * FROM runs ${clause} ORDER BY ${order} LIMIT ${arg(limit)} OFFSET ${arg(offset)}`,
              args
            )
          ).rows
          const ids = rows.map((r) => r.run_id)
          const tags = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]))
          const metrics = new Map<string, Record<string, number>>(ids.map((id) => [id, {}]))
          if (ids.length > 0) {
            for (const t of (
              await pg.pool.query<{ run_id: string; key: string; value: string }>(
                "SELECT run_id, key, value FROM tags WHERE run_id = ANY($1)",
                [ids]
              )
            ).rows)
              tags.get(t.run_id)![t.key] = t.value
            const keys = q.metrics ?? []
            if (keys.length > 0)
              for (const m of (
                await pg.pool.query<{ run_id: string; key: string; value: number }>(
                  "SELECT run_id, key, value FROM metrics WHERE step = 0 AND run_id = ANY($1) AND key = ANY($2)",
                  [ids, keys]
                )
              ).rows)
                metrics.get(m.run_id)![m.key] = Number(m.value)
          }
          const experiments = (
            await pg.pool.query<{ experiment: string }>(
              'SELECT DISTINCT experiment COLLATE "C" AS experiment FROM runs ORDER BY 1'
            )
          ).rows.map((r) => r.experiment)
          const datasets = (
            await pg.pool.query<{ value: string }>(
              `SELECT DISTINCT value COLLATE "C" AS value FROM tags WHERE key = 'dataset' ORDER BY 1`
            )
          ).rows.map((r) => r.value)
          const runs: RunSummary[] = rows.map((r) => ({
            run: toRecord(r),
            tags: tags.get(r.run_id)!,
            metrics: metrics.get(r.run_id)!
          }))
          return { total, runs, experiments, datasets }
        })
    })
  })
