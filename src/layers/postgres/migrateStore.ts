import type BetterSqlite3 from "better-sqlite3"
import { createHash } from "node:crypto"
import { type Dirent, existsSync, readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import type * as Pg from "pg"
import { verifyChain } from "../../domain/registry.js"
import { toAudit } from "../registry/RegistryPostgres.js"
import { migrate as migrateSqlite } from "../sqlite/SqliteDatabase.js"
import { migrations as sqliteMigrations } from "../sqlite/migrations.js"
import { CHUNK_BYTES, SHARED_PREFIXES } from "../storage/StoragePostgres.js"
import { openPostgres } from "./PostgresDatabase.js"

const require = createRequire(import.meta.url)

/** One table's copy: rows the source holds, rows this run wrote, rows already there (an earlier run). */
export interface TableCopy {
  readonly table: string
  readonly source: number
  readonly copied: number
  readonly present: number
}

export interface StoreMigration {
  readonly from: string
  readonly to: string
  readonly tables: ReadonlyArray<TableCopy>
  readonly files: { readonly source: number; readonly copied: number; readonly present: number }
  /** The chain on both sides after the copy: same records, same head. */
  readonly chain: {
    readonly source: { readonly records: number; readonly head: string | null; readonly ok: boolean }
    readonly target: { readonly records: number; readonly head: string | null; readonly ok: boolean }
  }
  readonly resumed: boolean
}

/** Why a migration stops: one sentence for the user (exit 1). */
export class MigrationRefused extends Error {}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

/**
 * Every table in copy order (parents before children), with its key and how a SQLite value
 * becomes the PostgreSQL one. The audit log's rows are copied byte for byte, so its chain hashes
 * the same on the other side.
 */
const TABLES: ReadonlyArray<{
  readonly table: string
  readonly key: ReadonlyArray<string>
  readonly columns: ReadonlyArray<string>
  readonly order: string
  readonly convert?: Readonly<Record<string, (v: unknown) => unknown>>
}> = [
  { table: "experiments", key: ["name"], columns: ["name", "created_at"], order: "name" },
  {
    table: "runs",
    key: ["run_id"],
    columns: [
      "run_id",
      "experiment",
      "status",
      "started_at",
      "ended_at",
      "error",
      "execution_id",
      "config_hash",
      "dataset_version",
      "random_seed",
      "driftgate_version",
      "code_revision",
      "anchors_json",
      "pid",
      "host",
      "process_start",
      "heartbeat_at",
      "interrupted_at"
    ],
    order: "run_id"
  },
  { table: "params", key: ["run_id", "key"], columns: ["run_id", "key", "value"], order: "run_id, key" },
  {
    table: "metrics",
    key: ["run_id", "key", "step"],
    columns: ["run_id", "key", "value", "step", "at"],
    order: "run_id, key, step"
  },
  { table: "tags", key: ["run_id", "key"], columns: ["run_id", "key", "value"], order: "run_id, key" },
  {
    table: "artifacts",
    key: ["run_id", "name"],
    columns: ["run_id", "name", "path", "sha256"],
    order: "run_id, name"
  },
  {
    table: "registered_models",
    key: ["name"],
    columns: ["name", "description", "created_at"],
    order: "name"
  },
  {
    table: "model_versions",
    key: ["name", "version"],
    columns: [
      "name",
      "version",
      "run_id",
      "stage",
      "artifact_path",
      "tags_json",
      "created_at",
      "updated_at",
      "files_recorded"
    ],
    order: "name, version",
    convert: { files_recorded: (v) => v === 1 || v === true }
  },
  { table: "aliases", key: ["name", "alias"], columns: ["name", "alias", "version"], order: "name, alias" },
  {
    table: "artifact_files",
    key: ["name", "version", "file"],
    columns: ["name", "version", "file", "sha256", "bytes"],
    order: "name, version, file"
  },
  {
    table: "rollback_intents",
    key: ["id"],
    columns: ["id", "model", "from_version", "to_version", "reason", "actor", "created_at", "status"],
    order: "id"
  },
  {
    table: "audit_log",
    key: ["seq"],
    columns: [
      "seq",
      "at",
      "actor",
      "action",
      "model",
      "version",
      "from_stage",
      "to_stage",
      "reason",
      "details_json",
      "prev_hash",
      "hash"
    ],
    order: "seq"
  }
]

/** Batches per transaction: a crash loses at most one batch's work, and a rerun skips what is there. */
const BATCH = 500

const walk = (abs: string, dir: string, out: string[]) => {
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(abs, p, out)
    else if (e.isFile() && !e.name.includes(".tmp-")) out.push(path.relative(abs, p).split(path.sep).join("/"))
  }
}

/**
 * `driftgate store migrate --to URL`: copies a workspace's SQLite store (runs, params, metrics,
 * tags, artifacts, the registry, rollback intents and the audit log, row for row) and its shared
 * folders (artifacts/, reports/, drift/) into a PostgreSQL store.
 *
 * Refuses a target that already holds runs or registry records unless `append` (or unless they
 * came from an earlier, interrupted migration of this same source: then it resumes). Every row
 * goes in with ON CONFLICT DO NOTHING, in batches, so a rerun after a crash copies only what is
 * missing. The audit log is copied only onto an empty log or onto a prefix of the source's own
 * chain: two different chains cannot be merged without rewriting one of them.
 */
export const migrateStore = async (options: {
  readonly workspace: string
  readonly to: string
  readonly append: boolean
  readonly connectTimeoutMs?: number
}): Promise<StoreMigration> => {
  const ws = path.resolve(options.workspace)
  const storePath = path.join(ws, "store.db")
  if (!existsSync(storePath))
    throw new MigrationRefused(`there is no store to migrate at ${storePath} (check --workspace)`)
  const Database = require("better-sqlite3") as typeof BetterSqlite3
  const src = new Database(storePath, { fileMustExist: true })
  src.pragma("busy_timeout = 10000")
  // An older store is brought to the current schema first, as any command would.
  migrateSqlite(src, sqliteMigrations)
  const target = await openPostgres(options.to, {
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {})
  })
  const pool = target.pool
  try {
    const source = `sqlite:${storePath}`
    const earlier = (
      await pool.query<{ completed_at: string | null }>("SELECT completed_at FROM store_imports WHERE source = $1", [
        source
      ])
    ).rows[0]
    const held = (
      await pool.query<{ n: number }>(
        "SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM files) AS n"
      )
    ).rows[0]?.n
    if ((held ?? 0) > 0 && earlier === undefined && !options.append)
      throw new MigrationRefused(
        `the PostgreSQL store at ${target.where} already holds runs, registry records or files: refusing to mix ${storePath} into it (add --append to merge on purpose)`
      )
    // The chain: the target's log must be empty or a prefix of the source's.
    const sourceChain = src.prepare("SELECT seq, hash FROM audit_log ORDER BY seq").all() as Array<{
      seq: number
      hash: string
    }>
    const targetChain = (
      await pool.query<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq")
    ).rows
    const diverges = targetChain.find((r, i) => sourceChain[i]?.seq !== r.seq || sourceChain[i]?.hash !== r.hash)
    if (diverges !== undefined || targetChain.length > sourceChain.length)
      throw new MigrationRefused(
        `the PostgreSQL store at ${target.where} holds another audit chain (record ${diverges?.seq ?? sourceChain.length + 1} differs from ${storePath}'s): two chains cannot be merged without rewriting one`
      )
    await pool.query("INSERT INTO store_imports (source, started_at) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING", [
      source,
      new Date().toISOString()
    ])

    const tables: TableCopy[] = []
    for (const t of TABLES) {
      const rows = src.prepare(`SELECT ${t.columns.join(", ")} FROM ${t.table} ORDER BY ${t.order}`).all() as Array<
        Record<string, unknown>
      >
      let copied = 0
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH)
        const client = await pool.connect()
        try {
          await client.query("BEGIN")
          for (const row of batch) {
            const values = t.columns.map((c) => (t.convert?.[c] ?? ((v: unknown) => v))(row[c]))
            const r = await client.query(
              `INSERT INTO ${t.table} (${t.columns.join(", ")}) VALUES (${t.columns.map((_, j) => `$${j + 1}`).join(", ")})
               ON CONFLICT (${t.key.join(", ")}) DO NOTHING`,
              values
            )
            copied += r.rowCount ?? 0
          }
          await client.query("COMMIT")
        } catch (e) {
          await client.query("ROLLBACK").catch(() => undefined)
          throw e
        } finally {
          client.release()
        }
      }
      tables.push({ table: t.table, source: rows.length, copied, present: rows.length - copied })
    }

    // The shared folders, content-addressed.
    const keys: string[] = []
    for (const p of SHARED_PREFIXES) walk(ws, path.join(ws, p), keys)
    keys.sort()
    let filesCopied = 0
    for (const key of keys) {
      const data = new Uint8Array(readFileSync(path.join(ws, ...key.split("/"))))
      const client: Pg.PoolClient = await pool.connect()
      try {
        await client.query("BEGIN")
        const digest = sha256(data)
        const chunks = Math.ceil(data.length / CHUNK_BYTES)
        const blob = await client.query(
          "INSERT INTO blobs (sha256, bytes, chunks) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
          [digest, data.length, chunks]
        )
        if ((blob.rowCount ?? 0) > 0)
          for (let i = 0; i < chunks; i++)
            await client.query("INSERT INTO blob_chunks (sha256, idx, data) VALUES ($1, $2, $3)", [
              digest,
              i,
              Buffer.from(data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES))
            ])
        const f = await client.query(
          "INSERT INTO files (key, sha256, written_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
          [key, digest, new Date().toISOString()]
        )
        filesCopied += f.rowCount ?? 0
        await client.query("COMMIT")
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined)
        throw e
      } finally {
        client.release()
      }
    }

    // The chain, verified on both sides, must be the same chain.
    const sourceAudit = (
      src.prepare("SELECT * FROM audit_log ORDER BY seq").all() as Array<Parameters<typeof toAudit>[0]>
    ).map(toAudit)
    const targetAudit = (
      await pool.query<Parameters<typeof toAudit>[0]>("SELECT * FROM audit_log ORDER BY seq")
    ).rows.map(toAudit)
    const sv = verifyChain(sourceAudit)
    const tv = verifyChain(targetAudit)
    const chain = {
      source: { records: sourceAudit.length, head: sourceAudit.at(-1)?.hash ?? null, ok: sv.ok },
      target: { records: targetAudit.length, head: targetAudit.at(-1)?.hash ?? null, ok: tv.ok }
    }
    if (chain.source.head !== chain.target.head || chain.source.records !== chain.target.records || !tv.ok)
      throw new MigrationRefused(
        `after the copy the audit chain at ${target.where} does not verify as ${storePath}'s does (${chain.target.records} records, head ${chain.target.head?.slice(0, 12) ?? "none"}; source ${chain.source.records}, head ${chain.source.head?.slice(0, 12) ?? "none"})`
      )
    await pool.query("UPDATE store_imports SET completed_at = $2 WHERE source = $1", [source, new Date().toISOString()])
    return {
      from: storePath,
      to: target.where,
      tables,
      files: { source: keys.length, copied: filesCopied, present: keys.length - filesCopied },
      chain,
      resumed: earlier !== undefined
    }
  } finally {
    src.close()
    await pool.end().catch(() => undefined)
  }
}
