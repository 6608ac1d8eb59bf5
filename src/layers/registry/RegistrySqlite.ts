import type BetterSqlite3 from "better-sqlite3"
import { Clock, Effect, Layer, Option } from "effect"
import { RegistryError, StoreError } from "../../domain/errors.js"
import { canonicalJson } from "../../domain/hash.js"
import { uuidv7 } from "../../domain/ids.js"
import {
  type AuditRecord,
  type ModelVersion,
  type RegisteredModel,
  type RollbackIntent,
  type Stage,
  verifyChain
} from "../../domain/registry.js"
import {
  abandonRollbackTx,
  appendAudit,
  beginRollbackTx,
  completeRollbackTx,
  promoteTx,
  setAliasTx,
  transitionTx
} from "./operations.js"
import type { RegistryTx } from "./RegistryTx.js"
import { Registry } from "../../services/Registry.js"
import { SqliteDatabase } from "../sqlite/SqliteDatabase.js"

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

const toAudit = (r: AuditRow): AuditRecord => ({
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

/** Prepared once per connection, on first use (after the migrations have run). */
const statements = (db: BetterSqlite3.Database) => ({
  models: db.prepare("SELECT name, created_at, description FROM registered_models ORDER BY name"),
  model: db.prepare("SELECT name, created_at, description FROM registered_models WHERE name = ?"),
  insertModel: db.prepare("INSERT INTO registered_models (name, description, created_at) VALUES (?, ?, ?)"),
  versions: db.prepare("SELECT * FROM model_versions WHERE name = ? ORDER BY version"),
  aliases: db.prepare("SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias"),
  insertVersion: db.prepare(
    `INSERT INTO model_versions (name, version, run_id, stage, artifact_path, tags_json, created_at, updated_at)
     VALUES (@name, @version, @run_id, @stage, @artifact_path, @tags_json, @created_at, @updated_at)`
  ),
  setStage: db.prepare("UPDATE model_versions SET stage = ?, updated_at = ? WHERE name = ? AND version = ?"),
  aliasTarget: db.prepare("SELECT version FROM aliases WHERE name = ? AND alias = ?"),
  setAlias: db.prepare(
    "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version"
  ),
  lastAudit: db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"),
  appendAudit: db.prepare(
    `INSERT INTO audit_log (seq, at, actor, action, model, version, from_stage, to_stage, reason, details_json, prev_hash, hash)
     VALUES (@seq, @at, @actor, @action, @model, @version, @from_stage, @to_stage, @reason, @details_json, @prev_hash, @hash)`
  ),
  audit: db.prepare("SELECT * FROM audit_log ORDER BY seq"),
  auditOf: db.prepare("SELECT * FROM audit_log WHERE model = ? ORDER BY seq"),
  intent: db.prepare("SELECT * FROM rollback_intents WHERE id = ?"),
  pendingOf: db.prepare("SELECT * FROM rollback_intents WHERE model = ? AND status = 'pending'"),
  pending: db.prepare("SELECT * FROM rollback_intents WHERE status = 'pending' ORDER BY created_at, id"),
  insertIntent: db.prepare(
    `INSERT INTO rollback_intents (id, model, from_version, to_version, reason, actor, created_at, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
  ),
  setIntentStatus: db.prepare("UPDATE rollback_intents SET status = ? WHERE id = ?")
})
type Statements = ReturnType<typeof statements>

const readVersions = (s: Statements, name: string): ReadonlyArray<ModelVersion> => {
  const aliases = s.aliases.all(name) as Array<{ alias: string; version: number }>
  return (s.versions.all(name) as Array<VersionRow>).map((r) => ({
    name: r.name,
    version: r.version,
    runId: r.run_id,
    stage: r.stage,
    artifactPath: r.artifact_path,
    tags: JSON.parse(r.tags_json) as Record<string, string>,
    aliases: aliases.filter((a) => a.version === r.version).map((a) => a.alias),
    createdAt: r.created_at,
    updatedAt: r.updated_at
  }))
}

const makeTx = (s: Statements): RegistryTx => ({
  getModel: (name) => {
    const r = s.model.get(name) as { name: string; created_at: string; description: string | null } | undefined
    return r === undefined ? undefined : { name: r.name, createdAt: r.created_at, description: r.description }
  },
  insertModel: (m) => void s.insertModel.run(m.name, m.description, m.createdAt),
  versions: (name) => readVersions(s, name),
  insertVersion: (v) =>
    void s.insertVersion.run({
      name: v.name,
      version: v.version,
      run_id: v.runId,
      stage: v.stage,
      artifact_path: v.artifactPath,
      tags_json: canonicalJson(v.tags),
      created_at: v.createdAt,
      updated_at: v.updatedAt
    }),
  setStage: (name, version, stage, at) => void s.setStage.run(stage, at, name, version),
  aliasTarget: (name, alias) => (s.aliasTarget.get(name, alias) as { version: number } | undefined)?.version,
  setAlias: (name, alias, version) => void s.setAlias.run(name, alias, version),
  lastAudit: () => s.lastAudit.get() as { seq: number; hash: string } | undefined,
  appendAudit: (r) =>
    void s.appendAudit.run({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      model: r.model,
      version: r.version,
      from_stage: r.fromStage,
      to_stage: r.toStage,
      reason: r.reason,
      details_json: canonicalJson(r.details),
      prev_hash: r.prevHash,
      hash: r.hash
    }),
  getIntent: (id) => {
    const r = s.intent.get(id) as IntentRow | undefined
    return r === undefined ? undefined : toIntent(r)
  },
  pendingIntent: (model) => {
    const r = s.pendingOf.get(model) as IntentRow | undefined
    return r === undefined ? undefined : toIntent(r)
  },
  insertIntent: (i) =>
    void s.insertIntent.run(i.id, i.model, i.fromVersion, i.toVersion, i.reason, i.actor, i.createdAt, i.status),
  setIntentStatus: (id, status) => void s.setIntentStatus.run(status, id)
})

const isoNow = Effect.map(Clock.currentTimeMillis, (ms) => ({ ms, at: new Date(ms).toISOString() }))

/**
 * The registry on the workspace's SQLite store. Every change is one BEGIN IMMEDIATE transaction
 * that reads the chain's head and appends its audit records, so processes sharing store.db queue
 * up instead of forking the chain; the database itself enforces one Production version per
 * model and an append-only audit_log.
 */
export const RegistrySqlite: Layer.Layer<Registry, never, SqliteDatabase> = Layer.effect(
  Registry,
  Effect.gen(function* () {
    const sql = yield* SqliteDatabase
    // Prepared once per connection (a read-only snapshot store swaps its connection when the source changes).
    const prepared = new WeakMap<BetterSqlite3.Database, Statements>()
    const stmts = (db: BetterSqlite3.Database) => {
      let s = prepared.get(db)
      if (s === undefined) prepared.set(db, (s = statements(db)))
      return s
    }

    const read = <A>(op: string, f: (s: Statements) => A) => sql.query(`registry.${op}`, (db) => f(stmts(db)))

    /** One transaction; a RegistryError thrown inside rolls it back and comes out typed. */
    const write = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, RegistryError | StoreError> =>
      Effect.suspend(() => {
        let refusal: RegistryError | undefined
        return sql
          .transaction(`registry.${op}`, (db) => {
            try {
              return f(makeTx(stmts(db)))
            } catch (e) {
              if (e instanceof RegistryError) refusal = e
              throw e
            }
          })
          .pipe(
            Effect.catchTag("StoreError", (e): Effect.Effect<never, RegistryError | StoreError> =>
              refusal === undefined ? Effect.fail(e) : Effect.fail(refusal)
            )
          )
      })

    const storeOnly = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, StoreError> =>
      write(op, f).pipe(
        Effect.catchTag("RegistryError", (e) =>
          Effect.fail(new StoreError({ op: `registry.${op}`, message: e.message }))
        )
      )

    return Registry.of({
      listModels: () =>
        read("listModels", (s) =>
          (s.models.all() as Array<{ name: string; created_at: string; description: string | null }>).map(
            (r): RegisteredModel => ({ name: r.name, createdAt: r.created_at, description: r.description })
          )
        ),
      listVersions: (name) => read("listVersions", (s) => readVersions(s, name)),
      getVersion: (name, version) =>
        read("getVersion", (s) => Option.fromNullable(readVersions(s, name).find((v) => v.version === version))),
      getByStage: (name, stage) => read("getByStage", (s) => readVersions(s, name).filter((v) => v.stage === stage)),
      getProduction: (name) =>
        read("getProduction", (s) => Option.fromNullable(readVersions(s, name).find((v) => v.stage === "Production"))),
      promote: (input) => Effect.flatMap(isoNow, ({ at }) => write("promote", (tx) => promoteTx(tx, input, at))),
      transition: (input) =>
        Effect.flatMap(isoNow, ({ at }) => write("transition", (tx) => transitionTx(tx, input, at))),
      setAlias: (input) => Effect.flatMap(isoNow, ({ at }) => write("setAlias", (tx) => setAliasTx(tx, input, at))),
      record: (entry) => Effect.flatMap(isoNow, ({ at }) => storeOnly("record", (tx) => appendAudit(tx, at, entry))),
      beginRollback: (input) =>
        Effect.flatMap(isoNow, ({ at, ms }) =>
          write("beginRollback", (tx) => beginRollbackTx(tx, input, at, uuidv7(ms)))
        ),
      completeRollback: (intentId, actor) =>
        Effect.flatMap(isoNow, ({ at }) =>
          write("completeRollback", (tx) => completeRollbackTx(tx, intentId, at, actor))
        ),
      abandonRollback: (intentId, reason, actor) =>
        Effect.flatMap(isoNow, ({ at }) =>
          write("abandonRollback", (tx) => abandonRollbackTx(tx, intentId, reason, actor, at))
        ),
      pendingRollbacks: () => read("pendingRollbacks", (s) => (s.pending.all() as Array<IntentRow>).map(toIntent)),
      audit: (name) =>
        read("audit", (s) =>
          ((name === undefined ? s.audit.all() : s.auditOf.all(name)) as Array<AuditRow>).map(toAudit)
        ),
      verify: () => read("verify", (s) => verifyChain((s.audit.all() as Array<AuditRow>).map(toAudit)))
    })
  })
)
