import type BetterSqlite3 from "better-sqlite3"
import { Config, ConfigError, Context, Effect, Either, Layer } from "effect"
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { createRequire } from "node:module"
import { StoreError, StoreMissing } from "../../domain/errors.js"
import { type Migration, migrations as allMigrations } from "./migrations.js"

/** The workspace's SQLite handle (WAL, foreign keys on, busy timeout), migrated on open. */
export class SqliteDatabase extends Context.Tag("driftgate/SqliteDatabase")<
  SqliteDatabase,
  {
    readonly db: BetterSqlite3.Database
    readonly path: string
    /** Runs `f` in a BEGIN IMMEDIATE transaction: writers queue instead of interleaving. */
    readonly transaction: <A>(op: string, f: (db: BetterSqlite3.Database) => A) => Effect.Effect<A, StoreError>
    readonly query: <A>(op: string, f: (db: BetterSqlite3.Database) => A) => Effect.Effect<A, StoreError>
  }
>() {}

const require = createRequire(import.meta.url)

export const openDatabase = (
  path: string,
  migrations: ReadonlyArray<Migration> = allMigrations
): BetterSqlite3.Database => {
  const Database = require("better-sqlite3") as typeof BetterSqlite3
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  // busy_timeout first: processes opening a fresh store at once then wait instead of failing "locked".
  db.pragma("busy_timeout = 10000")
  db.pragma("journal_mode = WAL")
  db.pragma("foreign_keys = ON")
  db.pragma("synchronous = NORMAL")
  migrate(db, migrations)
  return db
}

export const migrate = (db: BetterSqlite3.Database, migrations: ReadonlyArray<Migration>): void => {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`
  )
  const apply = db.transaction((m: Migration) => {
    // Re-check inside the write lock: another process may have migrated meanwhile.
    const done = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(m.version)
    if (done) return
    db.exec(m.sql)
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
      m.version,
      m.name,
      new Date().toISOString()
    )
  })
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version)
  )
  const newest = Math.max(0, ...applied)
  const known = Math.max(0, ...migrations.map((m) => m.version))
  if (newest > known) {
    throw new Error(
      `the store was written by a newer driftgate (schema version ${newest}; this version knows up to ${known})`
    )
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (!applied.has(m.version)) apply.immediate(m)
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

export const makeSqliteDatabase = (db: BetterSqlite3.Database, path: string) =>
  SqliteDatabase.of({
    db,
    path,
    transaction: (op, f) =>
      Effect.try({
        try: () => db.transaction(f).immediate(db),
        catch: (e) => new StoreError({ op, message: message(e), cause: e })
      }),
    query: (op, f) =>
      Effect.try({ try: () => f(db), catch: (e) => new StoreError({ op, message: message(e), cause: e }) })
  })

/** Opens `<path>` for the lifetime of the layer and closes it on release. */
export const SqliteDatabaseLive = (path: string) =>
  Layer.scoped(
    SqliteDatabase,
    Effect.acquireRelease(
      Effect.try({
        try: () => makeSqliteDatabase(openDatabase(path), path),
        catch: (e) => new StoreError({ op: "open", message: `cannot open the store ${path}: ${message(e)}`, cause: e })
      }),
      ({ db }) =>
        Effect.sync(() => {
          if (db.open) db.close()
        })
    )
  )

/**
 * The store of a workspace that must already exist: read-only commands (registry list|show|verify,
 * runs, drift summary) use it, so a mistyped --workspace is one sentence naming the path, never a
 * fresh empty store created there. An existing store opens (and migrates) as with SqliteDatabaseLive.
 */
export const SqliteDatabaseExisting = (path: string) =>
  Layer.unwrapEffect(
    Effect.suspend(() =>
      existsSync(path)
        ? Effect.succeed(SqliteDatabaseLive(path))
        : Effect.fail(new StoreMissing({ path, workspace: dirname(path), workspaceExists: existsSync(dirname(path)) }))
    )
  )

/**
 * A read-only view of a store on a read-only mount (e.g. `serve` in a container with the workspace
 * mounted read-only). SQLite in WAL mode cannot open a database it may not create `-shm` beside,
 * so this keeps a private copy of store.db (and its -wal) and refreshes it when the source
 * changes, before each read. Every write fails with a sentence saying why.
 */
export const SqliteDatabaseSnapshot = (path: string) =>
  Layer.scoped(
    SqliteDatabase,
    Effect.acquireRelease(
      Effect.try({
        try: () => makeSnapshot(path),
        catch: (e) => new StoreError({ op: "open", message: `cannot read the store ${path}: ${message(e)}`, cause: e })
      }),
      (s) => Effect.sync(() => s.close())
    ).pipe(Effect.map((s) => s.service))
  )

const makeSnapshot = (source: string) => {
  const Database = require("better-sqlite3") as typeof BetterSqlite3
  if (!existsSync(source)) throw new Error("no such file (run the pipeline once where the workspace is writable)")
  const dir = mkdtempSync(join(tmpdir(), "driftgate-store-"))
  let db: BetterSqlite3.Database | undefined
  let signature = ""
  let generation = 0
  const sig = () =>
    [source, `${source}-wal`]
      .map((f) => {
        try {
          const s = statSync(f)
          return `${s.size}:${s.mtimeMs}`
        } catch {
          return "-"
        }
      })
      .join("|")
  const refresh = () => {
    const now = sig()
    if (db !== undefined && now === signature) return db
    const target = join(dir, `store-${++generation}.db`)
    copyFileSync(source, target)
    if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${target}-wal`)
    const next = new Database(target, { fileMustExist: true })
    next.pragma("busy_timeout = 10000")
    const old = db
    db = next
    signature = now
    if (old !== undefined) {
      const file = old.name
      old.close()
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
    }
    return db
  }
  refresh()
  const service = SqliteDatabase.of({
    get db() {
      return refresh()
    },
    path: source,
    transaction: (op) =>
      Effect.fail(
        new StoreError({
          op,
          message: `the store ${source} is read-only here (read-only workspace); make registry changes where the workspace is writable`
        })
      ),
    query: (op, f) =>
      Effect.try({ try: () => f(refresh()), catch: (e) => new StoreError({ op, message: message(e), cause: e }) })
  })
  return {
    service,
    close: () => {
      db?.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * DRIFTGATE_STORE_READONLY: 1/true/yes/on forces the snapshot store, 0/false/no/off or unset (or
 * empty) does not; anything else is a configuration error naming the variable.
 */
export const storeReadOnlyConfig: Config.Config<boolean> = Config.string("DRIFTGATE_STORE_READONLY").pipe(
  Config.withDefault(""),
  Config.mapOrFail((raw) => {
    const v = raw.trim().toLowerCase()
    if (v === "" || v === "0" || v === "false" || v === "no" || v === "off") return Either.right(false)
    if (v === "1" || v === "true" || v === "yes" || v === "on") return Either.right(true)
    return Either.left(
      ConfigError.InvalidData([], `DRIFTGATE_STORE_READONLY must be 1 or 0 (true or false), not "${raw}"`)
    )
  })
)

/** A workspace folder this process may not write (a read-only mount, or no permission). */
const notWritable = (dir: string): boolean => {
  try {
    accessSync(dir, constants.W_OK)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EROFS" || (e as NodeJS.ErrnoException).code === "EACCES"
  }
}

/**
 * The store of a workspace: opened for writing, or read from a snapshot when the workspace is
 * read-only (DRIFTGATE_STORE_READONLY, read through Effect's Config, or a read-only mount).
 */
export const SqliteDatabaseWorkspace = (path: string, options: { readonly existing?: boolean } = {}) =>
  Layer.unwrapEffect(
    Effect.map(storeReadOnlyConfig, (readOnly) =>
      readOnly || notWritable(dirname(path))
        ? SqliteDatabaseSnapshot(path)
        : options.existing === true
          ? SqliteDatabaseExisting(path)
          : SqliteDatabaseLive(path)
    )
  )
