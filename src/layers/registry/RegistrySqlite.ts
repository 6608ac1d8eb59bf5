import type BetterSqlite3 from "better-sqlite3"
import { Clock, Effect, Either, Layer, Option, Schema } from "effect"
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { anchorProblems, type ArtifactFile, AuditHeadFile } from "../../domain/artifacts.js"
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
import { pollChanges } from "./follow.js"
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
  files_recorded: number
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
  setIntentStatus: db.prepare("UPDATE rollback_intents SET status = ? WHERE id = ?"),
  filesRecorded: db.prepare("SELECT files_recorded FROM model_versions WHERE name = ? AND version = ?"),
  markFilesRecorded: db.prepare("UPDATE model_versions SET files_recorded = 1 WHERE name = ? AND version = ?"),
  files: db.prepare("SELECT file, sha256, bytes FROM artifact_files WHERE name = ? AND version = ? ORDER BY file"),
  insertFile: db.prepare("INSERT INTO artifact_files (name, version, file, sha256, bytes) VALUES (?, ?, ?, ?, ?)"),
  anyFilesRecorded: db.prepare("SELECT 1 FROM model_versions WHERE files_recorded = 1 LIMIT 1"),
  chain: db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq")
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
  setIntentStatus: (id, status) => void s.setIntentStatus.run(status, id),
  insertFiles: (name, version, files) => {
    for (const f of files) s.insertFile.run(name, version, f.file, f.sha256, f.bytes)
    s.markFilesRecorded.run(name, version)
  },
  files: (name, version) => readFiles(s, name, version)
})

const readFiles = (s: Statements, name: string, version: number): ReadonlyArray<ArtifactFile> | undefined => {
  const row = s.filesRecorded.get(name, version) as { files_recorded: number } | undefined
  if (row === undefined || row.files_recorded !== 1) return undefined
  return s.files.all(name, version) as Array<ArtifactFile>
}

/** Replaces `path` with `text` atomically (temp file, fsync, rename): a reader sees the old head or the new. */
const writeAtomically = (path: string, text: string) => {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    const fd = openSync(tmp, "w")
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}

const decodeHead = Schema.decodeUnknownEither(Schema.parseJson(AuditHeadFile))

/** <workspace>/audit-head beside store.db; none for an in-memory database. */
export const auditHeadPath = (storePath: string): string | null =>
  storePath === ":memory:" || storePath === "" ? null : join(dirname(storePath), "audit-head")

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

    const read = <A>(op: string, f: (s: Statements, db: BetterSqlite3.Database) => A) =>
      sql.query(`registry.${op}`, (db) => f(stmts(db), db))

    const headPath = auditHeadPath(sql.path)
    const head = read("head", (s): RegistryHead => {
      const last = s.lastAudit.get() as { seq: number; hash: string } | undefined
      return last === undefined ? EMPTY_HEAD : { seq: last.seq, hash: last.hash }
    })

    /**
     * The chain's anchor outside the database: after a change commits, the head is read and written
     * to audit-head under the write lock, so concurrent writers leave the newest head, never an
     * older one. A crash before this leaves an older head, which verify accepts (it only detects a
     * log that ends before its anchor); a failure here does not undo the committed change.
     */
    const anchor = (): Effect.Effect<void> =>
      headPath === null
        ? Effect.void
        : sql
            .transaction("registry.anchor", (db) => {
              const last = stmts(db).lastAudit.get() as { seq: number; hash: string } | undefined
              if (last === undefined) return
              const head: AuditHeadFile = {
                format: "driftgate.audit_head/1",
                seq: last.seq,
                hash: last.hash,
                at: new Date().toISOString()
              }
              writeAtomically(headPath, JSON.stringify(head) + "\n")
            })
            .pipe(Effect.ignore)

    type Refusal = RegistryError | StaleComparison

    /** One transaction; a refusal thrown inside rolls it back and comes out typed. */
    const write = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, Refusal | StoreError> =>
      Effect.suspend(() => {
        let refusal: Refusal | undefined
        return sql
          .transaction(`registry.${op}`, (db) => {
            try {
              return f(makeTx(stmts(db)))
            } catch (e) {
              if (e instanceof RegistryError || e instanceof StaleComparison) refusal = e
              throw e
            }
          })
          .pipe(
            Effect.catchTag("StoreError", (e): Effect.Effect<never, Refusal | StoreError> =>
              refusal === undefined ? Effect.fail(e) : Effect.fail(refusal)
            ),
            Effect.tap(() => anchor())
          )
      })

    /** For operations that only a rule (RegistryError) can refuse, never a compare-and-set. */
    const ruled = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, RegistryError | StoreError> =>
      write(op, f).pipe(
        Effect.catchTag("StaleComparison", (e) =>
          Effect.fail(new StoreError({ op: `registry.${op}`, message: e.message, cause: e }))
        )
      )

    const storeOnly = <A>(op: string, f: (tx: RegistryTx) => A): Effect.Effect<A, StoreError> =>
      ruled(op, f).pipe(
        Effect.catchTag("RegistryError", (e) =>
          Effect.fail(new StoreError({ op: `registry.${op}`, message: e.message }))
        )
      )

    const inspectStore = () =>
      read("inspect", (s, db) => {
        const checked: string[] = []
        const problems: string[] = []
        const notes: string[] = []
        const attempt = (what: string, f: () => void) => {
          checked.push(what)
          try {
            f()
          } catch (e) {
            problems.push(`${what} could not run: ${e instanceof Error ? e.message : String(e)}`)
          }
        }
        attempt("SQLite integrity_check", () => {
          const rows = db.pragma("integrity_check") as Array<{ integrity_check: string }>
          const bad = rows.map((r) => r.integrity_check).filter((m) => m !== "ok")
          for (const m of bad.slice(0, 10)) problems.push(`SQLite integrity_check: ${m}`)
          if (bad.length > 10) problems.push(`SQLite integrity_check: and ${bad.length - 10} more`)
        })
        attempt("SQLite foreign_key_check", () => {
          const rows = db.pragma("foreign_key_check") as Array<{ table: string; rowid: number; parent: string }>
          for (const r of rows.slice(0, 10))
            problems.push(`SQLite foreign_key_check: row ${r.rowid} of ${r.table} points at a missing ${r.parent} row`)
          if (rows.length > 10) problems.push(`SQLite foreign_key_check: and ${rows.length - 10} more`)
        })
        if (headPath !== null) {
          attempt(`chain anchor ${headPath}`, () => {
            const chain = s.chain.all() as Array<{ seq: number; hash: string }>
            if (!existsSync(headPath)) {
              if (chain.length === 0) return
              if (s.anyFilesRecorded.get() !== undefined)
                problems.push(
                  `${headPath} is missing, but this store was written by a driftgate that keeps it after every registry change: it was deleted`
                )
              else
                notes.push(
                  `${headPath} does not exist (store written before the chain was anchored): the tail of the audit log cannot be checked`
                )
              return
            }
            const head = decodeHead(readFileSync(headPath, "utf8"))
            if (Either.isLeft(head)) {
              problems.push(`${headPath} is not a valid audit head (it was edited or damaged)`)
              return
            }
            problems.push(...anchorProblems(head.right, headPath, chain))
          })
        }
        return { checked, problems, notes }
      })

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
        Effect.flatMap(isoNow, ({ at }) => ruled("transition", (tx) => transitionTx(tx, input, at))),
      setAlias: (input) => Effect.flatMap(isoNow, ({ at }) => ruled("setAlias", (tx) => setAliasTx(tx, input, at))),
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
          ruled("abandonRollback", (tx) => abandonRollbackTx(tx, intentId, reason, actor, at))
        ),
      pendingRollbacks: () => read("pendingRollbacks", (s) => (s.pending.all() as Array<IntentRow>).map(toIntent)),
      audit: (name) =>
        read("audit", (s) =>
          ((name === undefined ? s.audit.all() : s.auditOf.all(name)) as Array<AuditRow>).map(toAudit)
        ),
      verify: () => read("verify", (s) => verifyChain((s.audit.all() as Array<AuditRow>).map(toAudit))),
      artifactFiles: (name, version) => read("artifactFiles", (s) => Option.fromNullable(readFiles(s, name, version))),
      inspectStore,
      head: () => head,
      changes: (options) => pollChanges(head, options?.pollMs)
    })
  })
)
