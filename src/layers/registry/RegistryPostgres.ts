import { Clock, Effect, Layer, Option } from "effect"
import { createRequire } from "node:module"
import type * as Pg from "pg"
import type { ArtifactFile } from "../../domain/artifacts.js"
import { RegistryError, StaleComparison, StoreError } from "../../domain/errors.js"
import { canonicalJson } from "../../domain/hash.js"
import { uuidv7 } from "../../domain/ids.js"
import {
  type AuditRecord,
  EMPTY_HEAD,
  type ModelVersion,
  type RegisteredModel,
  type RegistryHead,
  type RollbackIntent,
  type Stage,
  verifyChain
} from "../../domain/registry.js"
import { Registry } from "../../services/Registry.js"
import { PostgresDatabase } from "../postgres/PostgresDatabase.js"
import { type ChannelListener, listenChanges, pollChanges } from "./follow.js"
import {
  abandonRollbackTx,
  appendAudit,
  beginRollbackTx,
  completeRollbackTx,
  promoteTx,
  setAliasTx,
  transitionTx
} from "./operations.js"
import type { RegistryTx, StoredVersion } from "./RegistryTx.js"

/** The channel every registry change NOTIFYs in its own transaction (serve replicas LISTEN on it). */
export const REGISTRY_CHANNEL = "driftgate_registry"

const pgModule = () => createRequire(import.meta.url)("pg") as typeof Pg

/**
 * One lock for every registry write: the audit chain is one sequence across all models, so its
 * head is read and extended by one writer at a time (what BEGIN IMMEDIATE gives the SQLite store).
 * The model's row is also locked FOR UPDATE, and the unique indexes are the last word.
 */
const REGISTRY_LOCK = 0x64726967

interface VersionRow {
  name: string
  version: number
  run_id: string
  stage: Stage
  artifact_path: string
  tags_json: string
  created_at: string
  updated_at: string
}

interface AuditRow {
  seq: number
  at: string
  actor: string
  action: AuditRecord["action"]
  model: string
  version: number | null
  from_stage: Stage | null
  to_stage: Stage | null
  reason: string | null
  details_json: string
  prev_hash: string
  hash: string
}

interface IntentRow {
  id: string
  model: string
  from_version: number | null
  to_version: number
  reason: string
  actor: string
  created_at: string
  status: RollbackIntent["status"]
}

export const toAudit = (r: AuditRow): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  model: r.model,
  version: r.version,
  fromStage: r.from_stage,
  toStage: r.to_stage,
  reason: r.reason,
  details: JSON.parse(r.details_json) as Record<string, unknown>,
  prevHash: r.prev_hash,
  hash: r.hash
})

const toIntent = (r: IntentRow): RollbackIntent => ({
  id: r.id,
  model: r.model,
  fromVersion: r.from_version,
  toVersion: r.to_version,
  reason: r.reason,
  actor: r.actor,
  createdAt: r.created_at,
  status: r.status
})

const toStored = (r: VersionRow): StoredVersion => ({
  name: r.name,
  version: r.version,
  runId: r.run_id,
  stage: r.stage,
  artifactPath: r.artifact_path,
  tags: JSON.parse(r.tags_json) as Record<string, string>,
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

const withAliases = (
  versions: ReadonlyArray<StoredVersion>,
  aliases: ReadonlyArray<{ alias: string; version: number }>
): ReadonlyArray<ModelVersion> => {
  const sorted = [...aliases].sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0))
  return versions.map((v) => ({
    ...v,
    aliases: sorted.filter((a) => a.version === v.version).map((a) => a.alias)
  }))
}

type Queryable = Pick<Pg.Pool, "query"> | Pg.PoolClient

const readVersions = async (db: Queryable, name: string): Promise<ReadonlyArray<ModelVersion>> => {
  const versions = (await db.query<VersionRow>("SELECT * FROM model_versions WHERE name = $1 ORDER BY version", [name]))
    .rows
  const aliases = (
    await db.query<{ alias: string; version: number }>(
      "SELECT alias, version FROM aliases WHERE name = $1 ORDER BY alias",
      [name]
    )
  ).rows
  return withAliases(versions.map(toStored), aliases)
}

const readFiles = async (db: Queryable, name: string, version: number) => {
  const row = (
    await db.query<{ files_recorded: boolean }>(
      "SELECT files_recorded FROM model_versions WHERE name = $1 AND version = $2",
      [name, version]
    )
  ).rows[0]
  if (row === undefined || !row.files_recorded) return undefined
  return (
    await db.query<ArtifactFile>(
      "SELECT file, sha256, bytes FROM artifact_files WHERE name = $1 AND version = $2 ORDER BY file",
      [name, version]
    )
  ).rows
}

interface Statement {
  readonly text: string
  readonly values: ReadonlyArray<unknown>
}

/**
 * The rules of operations.ts are synchronous; the PostgreSQL client is not. So a write reads, under
 * its locks, everything the rules can ask about one model (its row, versions, aliases, pending
 * intent, the chain's head), runs the rules over that snapshot, and then sends the writes they
 * made, in order, in the same transaction. The snapshot cannot go stale: the locks are held until
 * COMMIT. A rule asking about another model is a bug, and throws (rolling everything back).
 */
interface Snapshot {
  readonly model: string | undefined
  registered: RegisteredModel | undefined
  versions: StoredVersion[]
  aliases: Map<string, number>
  last: { seq: number; hash: string } | undefined
  intents: Map<string, RollbackIntent>
}

const loadSnapshot = async (client: Pg.PoolClient, model: string | undefined, intentId?: string) => {
  const snap: Snapshot = {
    model,
    registered: undefined,
    versions: [],
    aliases: new Map(),
    last: undefined,
    intents: new Map()
  }
  const last = (
    await client.query<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
  ).rows[0]
  snap.last = last === undefined ? undefined : { seq: last.seq, hash: last.hash }
  if (intentId !== undefined) {
    const r = (await client.query<IntentRow>("SELECT * FROM rollback_intents WHERE id = $1", [intentId])).rows[0]
    if (r !== undefined) snap.intents.set(r.id, toIntent(r))
  }
  if (model !== undefined) {
    const m = (
      await client.query<{ name: string; created_at: string; description: string | null }>(
        "SELECT name, created_at, description FROM registered_models WHERE name = $1 FOR UPDATE",
        [model]
      )
    ).rows[0]
    snap.registered =
      m === undefined ? undefined : { name: m.name, createdAt: m.created_at, description: m.description }
    snap.versions = (
      await client.query<VersionRow>("SELECT * FROM model_versions WHERE name = $1 ORDER BY version", [model])
    ).rows.map(toStored)
    for (const a of (
      await client.query<{ alias: string; version: number }>("SELECT alias, version FROM aliases WHERE name = $1", [
        model
      ])
    ).rows)
      snap.aliases.set(a.alias, a.version)
    for (const r of (
      await client.query<IntentRow>("SELECT * FROM rollback_intents WHERE model = $1 AND status = 'pending'", [model])
    ).rows)
      snap.intents.set(r.id, toIntent(r))
  }
  return snap
}

const stagedTx = (snap: Snapshot, out: Statement[]): RegistryTx => {
  const same = (name: string) => {
    if (name !== snap.model)
      throw new Error(`a registry rule asked about model ${name} inside a transaction on ${String(snap.model)}`)
  }
  const emit = (text: string, ...values: ReadonlyArray<unknown>) => void out.push({ text, values })
  return {
    getModel: (name) => {
      same(name)
      return snap.registered
    },
    insertModel: (m) => {
      same(m.name)
      snap.registered = m
      emit(
        "INSERT INTO registered_models (name, description, created_at) VALUES ($1, $2, $3)",
        m.name,
        m.description,
        m.createdAt
      )
    },
    versions: (name) => {
      same(name)
      return withAliases(
        snap.versions,
        [...snap.aliases].map(([alias, version]) => ({ alias, version }))
      )
    },
    insertVersion: (v) => {
      same(v.name)
      snap.versions = [...snap.versions, v].sort((a, b) => a.version - b.version)
      emit(
        `INSERT INTO model_versions (name, version, run_id, stage, artifact_path, tags_json, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        v.name,
        v.version,
        v.runId,
        v.stage,
        v.artifactPath,
        canonicalJson(v.tags),
        v.createdAt,
        v.updatedAt
      )
    },
    insertFiles: (name, version, files) => {
      same(name)
      for (const f of files)
        emit(
          "INSERT INTO artifact_files (name, version, file, sha256, bytes) VALUES ($1, $2, $3, $4, $5)",
          name,
          version,
          f.file,
          f.sha256,
          f.bytes
        )
      emit("UPDATE model_versions SET files_recorded = TRUE WHERE name = $1 AND version = $2", name, version)
    },
    files: () => {
      throw new Error("RegistryTx.files is not read inside a PostgreSQL registry transaction")
    },
    setStage: (name, version, stage, at) => {
      same(name)
      snap.versions = snap.versions.map((v) => (v.version === version ? { ...v, stage, updatedAt: at } : v))
      emit(
        "UPDATE model_versions SET stage = $1, updated_at = $2 WHERE name = $3 AND version = $4",
        stage,
        at,
        name,
        version
      )
    },
    aliasTarget: (name, alias) => {
      same(name)
      return snap.aliases.get(alias)
    },
    setAlias: (name, alias, version) => {
      same(name)
      snap.aliases.set(alias, version)
      emit(
        "INSERT INTO aliases (name, alias, version) VALUES ($1, $2, $3) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
        name,
        alias,
        version
      )
    },
    lastAudit: () => snap.last,
    appendAudit: (r) => {
      snap.last = { seq: r.seq, hash: r.hash }
      emit(
        `INSERT INTO audit_log (seq, at, actor, action, model, version, from_stage, to_stage, reason, details_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        r.seq,
        r.at,
        r.actor,
        r.action,
        r.model,
        r.version,
        r.fromStage,
        r.toStage,
        r.reason,
        canonicalJson(r.details),
        r.prevHash,
        r.hash
      )
    },
    getIntent: (id) => snap.intents.get(id),
    pendingIntent: (model) => {
      same(model)
      return [...snap.intents.values()].find((i) => i.model === model && i.status === "pending")
    },
    insertIntent: (i) => {
      same(i.model)
      snap.intents.set(i.id, i)
      emit(
        `INSERT INTO rollback_intents (id, model, from_version, to_version, reason, actor, created_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        i.id,
        i.model,
        i.fromVersion,
        i.toVersion,
        i.reason,
        i.actor,
        i.createdAt,
        i.status
      )
    },
    setIntentStatus: (id, status) => {
      const i = snap.intents.get(id)
      if (i !== undefined) snap.intents.set(id, { ...i, status })
      emit("UPDATE rollback_intents SET status = $1 WHERE id = $2", status, id)
    }
  }
}

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => ({ ms, at: new Date(ms).toISOString() }))

type Refusal = RegistryError | StaleComparison

/** Which model a write is about, and the intent it names (rollback steps name only the intent). */
type Target = { readonly model?: string; readonly intent?: string }

/**
 * The registry on a shared PostgreSQL store. Every change is one transaction on one pooled client:
 * the registry lock (a transaction-scoped advisory lock) and the model's row FOR UPDATE, the rules
 * of operations.ts, the writes, and a NOTIFY on `driftgate_registry` for changes that move a stage
 * or an alias, all committed together (a NOTIFY is delivered only if its transaction commits). The
 * database enforces one Production version per model (unique partial index), an unforked chain
 * (unique prev_hash) and an append-only audit_log and artifact_files (triggers).
 */
export const RegistryPostgres: Layer.Layer<Registry, never, PostgresDatabase> = Layer.effect(
  Registry,
  Effect.gen(function* () {
    const pg = yield* PostgresDatabase
    const read = <A>(op: string, f: (db: Queryable) => Promise<A>) =>
      Effect.tryPromise({
        try: () => f(pg.pool),
        catch: (e) =>
          new StoreError({
            op: `registry.${op}`,
            message: `PostgreSQL at ${pg.where}: ${e instanceof Error ? e.message : String(e)}`,
            cause: e
          })
      })

    const write = <A>(
      op: string,
      target: Target,
      f: (tx: RegistryTx) => A,
      notify: boolean
    ): Effect.Effect<A, Refusal | StoreError> =>
      pg
        .transaction(`registry.${op}`, async (client) => {
          await client.query("SELECT pg_advisory_xact_lock($1)", [REGISTRY_LOCK])
          let model = target.model
          if (model === undefined && target.intent !== undefined) {
            model = (
              await client.query<{ model: string }>("SELECT model FROM rollback_intents WHERE id = $1", [target.intent])
            ).rows[0]?.model
          }
          const snap = await loadSnapshot(client, model, target.intent)
          const out: Statement[] = []
          const result = f(stagedTx(snap, out))
          for (const s of out) await client.query(s.text, s.values as Array<unknown>)
          if (notify && out.length > 0 && model !== undefined)
            await client.query("SELECT pg_notify($1, $2)", [
              REGISTRY_CHANNEL,
              JSON.stringify({ model, seq: snap.last?.seq ?? 0 })
            ])
          return result
        })
        .pipe(
          Effect.catchTag("StoreError", (e): Effect.Effect<never, Refusal | StoreError> =>
            e.cause instanceof RegistryError || e.cause instanceof StaleComparison
              ? Effect.fail(e.cause)
              : Effect.fail(e)
          )
        )

    const ruled = <A>(op: string, target: Target, f: (tx: RegistryTx) => A, notify = true) =>
      write(op, target, f, notify).pipe(
        Effect.catchTag("StaleComparison", (e) =>
          Effect.fail(new StoreError({ op: `registry.${op}`, message: e.message, cause: e }))
        )
      )

    const audit = (name?: string) =>
      read("audit", async (db) =>
        (name === undefined
          ? (await db.query<AuditRow>("SELECT * FROM audit_log ORDER BY seq")).rows
          : (await db.query<AuditRow>("SELECT * FROM audit_log WHERE model = $1 ORDER BY seq", [name])).rows
        ).map(toAudit)
      )

    return Registry.of({
      listModels: () =>
        read("listModels", async (db) =>
          (
            await db.query<{ name: string; created_at: string; description: string | null }>(
              'SELECT name, created_at, description FROM registered_models ORDER BY name COLLATE "C"'
            )
          ).rows.map((r): RegisteredModel => ({ name: r.name, createdAt: r.created_at, description: r.description }))
        ),
      listVersions: (name) => read("listVersions", (db) => readVersions(db, name)),
      getVersion: (name, version) =>
        read("getVersion", async (db) =>
          Option.fromNullable((await readVersions(db, name)).find((v) => v.version === version))
        ),
      getByStage: (name, stage) =>
        read("getByStage", async (db) => (await readVersions(db, name)).filter((v) => v.stage === stage)),
      getProduction: (name) =>
        read("getProduction", async (db) =>
          Option.fromNullable((await readVersions(db, name)).find((v) => v.stage === "Production"))
        ),
      promote: (input) =>
        Effect.flatMap(isoNow, ({ at }) =>
          write("promote", { model: input.name }, (tx) => promoteTx(tx, input, at), true)
        ),
      transition: (input) =>
        Effect.flatMap(isoNow, ({ at }) =>
          ruled("transition", { model: input.name }, (tx) => transitionTx(tx, input, at))
        ),
      setAlias: (input) =>
        Effect.flatMap(isoNow, ({ at }) => ruled("setAlias", { model: input.name }, (tx) => setAliasTx(tx, input, at))),
      record: (entry) =>
        Effect.flatMap(isoNow, ({ at }) =>
          ruled("record", {}, (tx) => appendAudit(tx, at, entry), false).pipe(
            Effect.catchTag("RegistryError", (e) =>
              Effect.fail(new StoreError({ op: "registry.record", message: e.message }))
            )
          )
        ),
      beginRollback: (input) =>
        Effect.flatMap(isoNow, ({ at, ms }) =>
          write("beginRollback", { model: input.name }, (tx) => beginRollbackTx(tx, input, at, uuidv7(ms)), false)
        ),
      completeRollback: (intentId, actor) =>
        Effect.flatMap(isoNow, ({ at }) =>
          write("completeRollback", { intent: intentId }, (tx) => completeRollbackTx(tx, intentId, at, actor), true)
        ),
      abandonRollback: (intentId, reason, actor) =>
        Effect.flatMap(isoNow, ({ at }) =>
          ruled(
            "abandonRollback",
            { intent: intentId },
            (tx) => abandonRollbackTx(tx, intentId, reason, actor, at),
            false
          )
        ),
      pendingRollbacks: () =>
        read("pendingRollbacks", async (db) =>
          (
            await db.query<IntentRow>(
              `SELECT * FROM rollback_intents WHERE status = 'pending' ORDER BY created_at COLLATE "C", id COLLATE "C"`
            )
          ).rows.map(toIntent)
        ),
      audit,
      verify: () => Effect.map(audit(), verifyChain),
      artifactFiles: (name, version) =>
        read("artifactFiles", async (db) => Option.fromNullable(await readFiles(db, name, version))),
      inspectStore: () =>
        read("inspect", async (db) => {
          const checked: string[] = []
          const problems: string[] = []
          const notes: string[] = []
          checked.push(`PostgreSQL guards at ${pg.where}`)
          const triggers = new Set(
            (
              await db.query<{ tgname: string }>(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' AND tgrelid IN ('audit_log'::regclass, 'artifact_files'::regclass)"
              )
            ).rows.map((r) => r.tgname)
          )
          for (const t of [
            "audit_log_no_update",
            "audit_log_no_truncate",
            "artifact_files_no_update",
            "artifact_files_no_truncate"
          ])
            if (!triggers.has(t))
              problems.push(`PostgreSQL: the trigger ${t} is missing or disabled: the log is no longer append-only`)
          const indexes = new Set(
            (
              await db.query<{ indexname: string }>(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('model_versions', 'audit_log')"
              )
            ).rows.map((r) => r.indexname)
          )
          for (const i of ["model_versions_one_production", "audit_log_one_successor"])
            if (!indexes.has(i)) problems.push(`PostgreSQL: the unique index ${i} is missing`)
          const doubled = (
            await db.query<{ name: string }>(
              "SELECT name FROM model_versions WHERE stage = 'Production' GROUP BY name HAVING COUNT(*) > 1"
            )
          ).rows
          for (const d of doubled) problems.push(`PostgreSQL: model ${d.name} has more than one Production row`)
          notes.push(
            `the audit chain's anchor is the PostgreSQL store itself (no audit-head file beside a shared store); its triggers and the server's access control keep the log append-only`
          )
          return { checked, problems, notes }
        }),
      head: () => read("head", readHead),
      changes: (options) =>
        options?.poll === true
          ? pollChanges(read("head", readHead), options.pollMs)
          : listenChanges({
              readHead: () => readHead(pg.pool),
              connect: () => listenOn(pg.pool),
              ...(options?.pollMs !== undefined ? { pollMs: options.pollMs } : {})
            })
    })
  })
)

const readHead = async (db: Queryable): Promise<RegistryHead> => {
  const row = (
    await db.query<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
  ).rows[0]
  return row === undefined ? EMPTY_HEAD : { seq: Number(row.seq), hash: row.hash }
}

/**
 * A dedicated connection (not one of the pool's: it is held for as long as the subscription lives)
 * that LISTENs on the registry channel, made with the pool's own settings (URL, connect timeout).
 */
export const listenOn = async (pool: Pg.Pool): Promise<ChannelListener> => {
  const { Client } = pgModule()
  const client = new Client({ ...pool.options, application_name: "driftgate-follow" })
  const lostHandlers: Array<(reason: string) => void> = []
  let lost: string | undefined
  const lose = (reason: string) => {
    if (lost !== undefined) return
    lost = reason
    for (const f of lostHandlers) f(reason)
  }
  client.on("error", (e) => lose(e.message))
  client.on("end", () => lose("the connection ended"))
  try {
    await client.connect()
    await client.query(`LISTEN ${REGISTRY_CHANNEL}`)
  } catch (e) {
    await client.end().catch(() => undefined)
    throw e
  }
  return {
    onNotify: (f) => void client.on("notification", (n) => (n.channel === REGISTRY_CHANNEL ? f() : undefined)),
    onLost: (f) => {
      if (lost !== undefined) f(lost)
      else lostHandlers.push(f)
    },
    close: () => client.end()
  }
}
