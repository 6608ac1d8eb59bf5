import { Config, Context, Effect, Layer, Option } from "effect"
import { createRequire } from "node:module"
import type * as Pg from "pg"
import { StoreError } from "../../domain/errors.js"
import { type PgMigration, pgMigrations } from "./migrations.js"

/**
 * The shared PostgreSQL store: a pooled `pg` client for one URL, migrated on open.
 *
 * Why `pg` and not `@effect/sql-pg`: the current @effect/sql-pg release is built against effect 4
 * (its peer dependency), and driftgate runs on effect 3.22; the release line that pairs with
 * effect 3 is no longer maintained. `pg` (node-postgres) is the maintained client underneath it
 * anyway; this module is the thin Effect edge over it (typed StoreError, scoped pool).
 */
export class PostgresDatabase extends Context.Tag("driftgate/PostgresDatabase")<
  PostgresDatabase,
  {
    /** host:port/database, for sentences (never the password). */
    readonly where: string
    readonly pool: Pg.Pool
    readonly query: <R extends object = Record<string, unknown>>(
      op: string,
      text: string,
      values?: ReadonlyArray<unknown>
    ) => Effect.Effect<ReadonlyArray<R>, StoreError>
    /** Several reads on the pool (no transaction), failing as one StoreError. */
    readonly run: <A>(op: string, f: (pool: Pg.Pool) => Promise<A>) => Effect.Effect<A, StoreError>
    /**
     * Runs `f` between BEGIN and COMMIT on one pooled client; anything thrown rolls it back (the
     * thrown value is the StoreError's cause). A connection lost mid-way is rolled back by the server.
     */
    readonly transaction: <A>(op: string, f: (client: Pg.PoolClient) => Promise<A>) => Effect.Effect<A, StoreError>
  }
>() {}

const require = createRequire(import.meta.url)

/** The URL's parts worth naming in a sentence: host:port/database, never the user's password. */
export const describeUrl = (url: string): string => {
  try {
    const u = new URL(url)
    const host = u.hostname === "" ? (u.searchParams.get("host") ?? "localhost") : u.hostname
    return `${host}:${u.port === "" ? "5432" : u.port}${u.pathname === "" || u.pathname === "/" ? "" : u.pathname}`
  } catch {
    return "(an unparsable URL)"
  }
}

/** Whether `s` names a PostgreSQL store (postgres:// or postgresql://). */
export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s)

const text = (e: unknown): string => {
  if (e instanceof AggregateError && e.errors.length > 0) return text(e.errors[0])
  if (e instanceof Error) return e.message === "" && "code" in e ? String((e as { code: unknown }).code) : e.message
  return String(e)
}

/** The server's (or the socket's) own words, with the password scrubbed should a message ever echo the URL. */
export const pgMessage = (e: unknown, password?: string): string => {
  const m = text(e)
  return password !== undefined && password !== "" ? m.split(password).join("***") : m
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000

export interface PostgresOptions {
  readonly connectTimeoutMs?: number
  readonly max?: number
  readonly migrations?: ReadonlyArray<PgMigration>
}

/** Serialises migrations of concurrent openers (any constant; "driftgate" in ASCII). */
const MIGRATION_LOCK = 0x64726966

export const migratePg = async (client: Pg.PoolClient, migrations: ReadonlyArray<PgMigration>, where: string) => {
  // Created under the migration lock: CREATE TABLE IF NOT EXISTS is not safe against itself (two sessions
  // can both find the table absent, and the second fails on pg_type's unique index — seen when several
  // processes opened a fresh store at once)
  const exists = await client.query<{ e: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS e")
  if (exists.rows[0]?.e !== true) {
    await client.query("BEGIN")
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK])
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
      )
      await client.query("COMMIT")
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined)
      throw e
    }
  }
  const known = Math.max(0, ...migrations.map((m) => m.version))
  const check = async () => {
    const rows = (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows
    const applied = new Set(rows.map((r) => r.version))
    const newest = Math.max(0, ...applied)
    if (newest > known)
      throw new Error(
        `the PostgreSQL store at ${where} was written by a newer driftgate (schema version ${newest}; this version knows up to ${known})`
      )
    return applied
  }
  let applied = await check()
  if (migrations.every((m) => applied.has(m.version))) return
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue
    await client.query("BEGIN")
    try {
      // Re-checked under the lock: another process may have migrated meanwhile.
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK])
      applied = await check()
      if (!applied.has(m.version)) {
        await client.query(m.sql)
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          new Date().toISOString()
        ])
      }
      await client.query("COMMIT")
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined)
      throw e
    }
  }
}

/** Builds the pool (no connection yet). */
export const makePool = (url: string, options: PostgresOptions = {}): Pg.Pool => {
  const pg = require("pg") as typeof Pg
  // bigint (COUNT, SUM) as numbers: every count here is far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v))
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    max: options.max ?? 4,
    application_name: "driftgate"
  })
  // An idle client losing its connection (server restart) must not crash the process: the pool
  // drops it and the next query connects afresh.
  pool.on("error", () => undefined)
  // Same for a client that is checked out: the query in flight fails with the error; the event
  // itself must not become an uncaught exception.
  pool.on("connect", (client) => void client.on("error", () => undefined))
  return pool
}

const passwordOf = (url: string): string | undefined => {
  try {
    return decodeURIComponent(new URL(url).password)
  } catch {
    return undefined
  }
}

/** Connects once (bounded by the connect timeout), migrates, and returns the service. */
export const openPostgres = async (url: string, options: PostgresOptions = {}) => {
  const where = describeUrl(url)
  const password = passwordOf(url)
  const pool = makePool(url, options)
  let client: Pg.PoolClient
  try {
    client = await pool.connect()
  } catch (e) {
    await pool.end().catch(() => undefined)
    throw new Error(`cannot connect to the PostgreSQL store at ${where}: ${pgMessage(e, password)}`, { cause: e })
  }
  try {
    await migratePg(client, options.migrations ?? pgMigrations, where)
  } catch (e) {
    client.release(true)
    await pool.end().catch(() => undefined)
    const m = pgMessage(e, password)
    throw new Error(
      m.startsWith("the PostgreSQL store") ? m : `cannot prepare the PostgreSQL store at ${where}: ${m}`,
      {
        cause: e
      }
    )
  }
  client.release()
  return makePostgresDatabase(pool, where, password)
}

export const makePostgresDatabase = (pool: Pg.Pool, where: string, password?: string) => {
  const fail = (op: string, e: unknown) =>
    new StoreError({ op, message: `PostgreSQL at ${where}: ${pgMessage(e, password)}`, cause: e })
  return PostgresDatabase.of({
    where,
    pool,
    query: <R extends object>(op: string, sql: string, values?: ReadonlyArray<unknown>) =>
      Effect.tryPromise({
        try: async () => (await pool.query<R>(sql, values as Array<unknown> | undefined)).rows,
        catch: (e) => fail(op, e)
      }),
    run: <A>(op: string, f: (pool: Pg.Pool) => Promise<A>) =>
      Effect.tryPromise({ try: () => f(pool), catch: (e) => fail(op, e) }),
    transaction: <A>(op: string, f: (client: Pg.PoolClient) => Promise<A>) =>
      Effect.tryPromise({
        try: async () => {
          const client = await pool.connect()
          let broken = false
          try {
            await client.query("BEGIN")
            const result = await f(client)
            await client.query("COMMIT")
            return result
          } catch (e) {
            try {
              await client.query("ROLLBACK")
            } catch {
              broken = true
            }
            throw e
          } finally {
            client.release(broken)
          }
        },
        catch: (e) => fail(op, e)
      })
  })
}

/** The store at `url` for the lifetime of the layer; the pool is closed on release. */
export const PostgresDatabaseLive = (url: string, options: PostgresOptions = {}) =>
  Layer.scoped(
    PostgresDatabase,
    Effect.acquireRelease(
      Effect.flatMap(connectTimeoutConfig, (timeout) =>
        Effect.tryPromise({
          try: () => openPostgres(url, { connectTimeoutMs: timeout, ...options }),
          catch: (e) => new StoreError({ op: "open", message: text(e), cause: e })
        })
      ),
      (db) => Effect.promise(() => db.pool.end().catch(() => undefined))
    )
  )

/** DRIFTGATE_STORE_CONNECT_TIMEOUT_S (default 5): how long opening the store may wait for the server. */
export const connectTimeoutConfig: Effect.Effect<number> = Config.number("DRIFTGATE_STORE_CONNECT_TIMEOUT_S").pipe(
  Config.option,
  Effect.map((o) => (Option.isSome(o) && o.value > 0 ? Math.round(o.value * 1000) : DEFAULT_CONNECT_TIMEOUT_MS)),
  Effect.orElseSucceed(() => DEFAULT_CONNECT_TIMEOUT_MS)
)
