import { Effect, Layer } from "effect"
import type * as Pg from "pg"
import { createHash } from "node:crypto"
import { StorageError } from "../../domain/errors.js"
import { checkKey, READ_CHUNK_BYTES, Storage, type StorageData } from "../../services/Storage.js"
import { PostgresDatabase } from "../postgres/PostgresDatabase.js"
import { makeStorageFs } from "./StorageFs.js"

/**
 * The workspace folders that travel with a shared store: a serve replica on another host needs the
 * model's files, its reference profile, the reports and the drift history, and nothing but the
 * store's URL. Everything else (datasets, splits, preprocessed files, staging, serving logs) stays
 * in the local workspace: dataset snapshots are large, and each host prepares its own.
 */
export const SHARED_PREFIXES = ["artifacts", "reports", "drift"] as const

export const isSharedKey = (key: string): boolean => SHARED_PREFIXES.some((p) => key === p || key.startsWith(`${p}/`))

/** Rows of at most this many bytes: well below PostgreSQL's 1 GB field limit, and cheap to stream. */
export const CHUNK_BYTES = 1 << 20

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")
/** The bytes of a write: text as UTF-8, pieces (an Arrow file's buffers) joined — a blob is hashed whole. */
const bytesOf = (data: StorageData): Uint8Array =>
  typeof data === "string"
    ? new Uint8Array(Buffer.from(data, "utf8"))
    : data instanceof Uint8Array
      ? data
      : new Uint8Array(Buffer.concat(data))

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * Workspace files with the shared folders (SHARED_PREFIXES) content-addressed in PostgreSQL: a
 * file's bytes are a blob keyed by their SHA-256, in 1 MiB bytea chunks, written once whoever
 * writes the same bytes; a key names its blob. A read joins the chunks and checks their SHA-256
 * and length against the blob's row, so damage in the store is an error naming the key, never
 * wrong bytes. Other keys go to the local folder `root`.
 */
export const makeStoragePostgres = (root: string, pg: PostgresDatabase["Type"]) => {
  const local = makeStorageFs(root)
  const fail = (op: string, key: string, e: unknown) =>
    new StorageError({ op, key, message: `PostgreSQL at ${pg.where}: ${message(e)}`, cause: e })
  const shared = <A>(op: string, key: string, f: () => Promise<A>) => {
    const bad = checkKey(key)
    return bad !== undefined
      ? Effect.fail(new StorageError({ op, key, message: `the key ${bad}` }))
      : Effect.tryPromise({ try: f, catch: (e) => (e instanceof StorageError ? e : fail(op, key, e)) })
  }
  const now = () => new Date().toISOString()

  /** Stores `data` as a blob (once per SHA-256) inside the caller's transaction; its digest. */
  const putBlob = async (c: Pick<Pg.PoolClient, "query">, data: Uint8Array) => {
    const digest = sha256(data)
    const chunks = Math.ceil(data.length / CHUNK_BYTES)
    const inserted = await c.query(
      "INSERT INTO blobs (sha256, bytes, chunks) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
      [digest, data.length, chunks]
    )
    if ((inserted.rowCount ?? 0) > 0)
      for (let i = 0; i < chunks; i++)
        await c.query("INSERT INTO blob_chunks (sha256, idx, data) VALUES ($1, $2, $3)", [
          digest,
          i,
          Buffer.from(
            data.buffer,
            data.byteOffset + i * CHUNK_BYTES,
            Math.min(CHUNK_BYTES, data.length - i * CHUNK_BYTES)
          )
        ])
    return digest
  }

  /** `via`: the client of a transaction in progress (an append must not wait for a second pooled connection). */
  const readShared = async (key: string, via: Pick<Pg.PoolClient, "query"> = pg.pool): Promise<Uint8Array> => {
    const head = (
      await via.query<{ sha256: string; bytes: number; chunks: number }>(
        "SELECT f.sha256, b.bytes, b.chunks FROM files f JOIN blobs b ON b.sha256 = f.sha256 WHERE f.key = $1",
        [key]
      )
    ).rows[0]
    if (head === undefined)
      throw new StorageError({ op: "read", key, message: `no such file in the shared store at ${pg.where}` })
    const rows = (
      await via.query<{ idx: number; data: Buffer }>(
        "SELECT idx, data FROM blob_chunks WHERE sha256 = $1 ORDER BY idx",
        [head.sha256]
      )
    ).rows
    const data = new Uint8Array(Buffer.concat(rows.map((r) => r.data)))
    const digest = sha256(data)
    if (rows.length !== head.chunks || data.length !== head.bytes || digest !== head.sha256)
      throw new StorageError({
        op: "read",
        key,
        message: `its content in the store at ${pg.where} does not match its SHA-256 (recorded ${head.sha256.slice(0, 12)}…, ${head.bytes} bytes; read ${digest.slice(0, 12)}…, ${data.length} bytes): the store was damaged or edited`
      })
    return data
  }

  const put = (op: string, key: string, data: StorageData, once: boolean) =>
    shared(op, key, () =>
      pg.pool.connect().then(async (c) => {
        try {
          await c.query("BEGIN")
          const digest = await putBlob(c, bytesOf(data))
          const r = await c.query(
            once
              ? "INSERT INTO files (key, sha256, written_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING"
              : "INSERT INTO files (key, sha256, written_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, written_at = excluded.written_at",
            [key, digest, now()]
          )
          await c.query("COMMIT")
          return (r.rowCount ?? 0) > 0
        } catch (e) {
          await c.query("ROLLBACK").catch(() => undefined)
          throw e
        } finally {
          c.release()
        }
      })
    )

  return Storage.of({
    root: local.root,
    read: (key) => (isSharedKey(key) ? shared("read", key, () => readShared(key)) : local.read(key)),
    readText: (key) =>
      isSharedKey(key)
        ? shared("read", key, async () => Buffer.from(await readShared(key)).toString("utf8"))
        : local.readText(key),
    // a shared blob is checked against its SHA-256 as a whole before any of it is handed out
    readChunks: (key, chunk) =>
      isSharedKey(key)
        ? shared("read", key, async () => {
            const b = await readShared(key)
            for (let o = 0; o < b.length; o += READ_CHUNK_BYTES)
              chunk(b.subarray(o, Math.min(b.length, o + READ_CHUNK_BYTES)))
          })
        : local.readChunks(key, chunk),
    write: (key, data) => (isSharedKey(key) ? Effect.asVoid(put("write", key, data, false)) : local.write(key, data)),
    writeOnce: (key, data) => (isSharedKey(key) ? put("write", key, data, true) : local.writeOnce(key, data)),
    append: (key, data) =>
      isSharedKey(key)
        ? Effect.asVoid(
            pg.transaction(`storage.append ${key}`, async (c) => {
              // one appender per key at a time: read, extend, store the new blob
              await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [key])
              const exists = (await c.query("SELECT 1 FROM files WHERE key = $1", [key])).rows.length > 0
              const before = exists ? await readShared(key, c) : new Uint8Array()
              const digest = await putBlob(c, new Uint8Array(Buffer.concat([before, Buffer.from(data, "utf8")])))
              await c.query(
                "INSERT INTO files (key, sha256, written_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, written_at = excluded.written_at",
                [key, digest, now()]
              )
            })
          ).pipe(Effect.mapError((e) => new StorageError({ op: "append", key, message: e.message, cause: e })))
        : local.append(key, data),
    exists: (key) =>
      isSharedKey(key)
        ? shared(
            "exists",
            key,
            async () => (await pg.pool.query("SELECT 1 FROM files WHERE key = $1", [key])).rows.length > 0
          )
        : local.exists(key),
    list: (prefix) => {
      const sharedList = shared("list", prefix === "" ? "artifacts" : prefix, async () =>
        (
          await pg.pool.query<{ key: string }>(
            prefix === ""
              ? 'SELECT key FROM files ORDER BY key COLLATE "C"'
              : 'SELECT key FROM files WHERE starts_with(key, $1) ORDER BY key COLLATE "C"',
            prefix === "" ? [] : [`${prefix}/`]
          )
        ).rows.map((r) => r.key)
      )
      if (prefix === "")
        return Effect.map(Effect.all([local.list(""), sharedList]), ([a, b]) =>
          [...a.filter((k) => !isSharedKey(k)), ...b].sort()
        )
      return isSharedKey(prefix) ? sharedList : local.list(prefix)
    },
    remove: (key) =>
      isSharedKey(key)
        ? Effect.asVoid(
            shared("remove", key, () =>
              pg.pool.query("DELETE FROM files WHERE key = $1 OR starts_with(key, $2)", [key, `${key}/`])
            )
          )
        : local.remove(key),
    locate: (key) => (isSharedKey(key) ? `${pg.where}#${key}` : local.locate(key))
  })
}

/**
 * Storage for a workspace on a shared PostgreSQL store: artifacts, reports and drift history in
 * the store (or, with `artifacts: <dir>`, in that shared directory), the rest under `root`.
 */
export const StoragePostgres = (root: string, artifactsDir?: string) =>
  artifactsDir === undefined
    ? Layer.effect(
        Storage,
        Effect.map(PostgresDatabase, (pg) => makeStoragePostgres(root, pg))
      )
    : Layer.sync(Storage, () => makeStorageSplit(root, artifactsDir))

/** The shared folders in a directory every host mounts (`artifacts: <dir>`), the rest under `root`. */
export const makeStorageSplit = (root: string, sharedDir: string) => {
  const local = makeStorageFs(root)
  const remote = makeStorageFs(sharedDir)
  const pick = (key: string) => (isSharedKey(key) ? remote : local)
  return Storage.of({
    root: local.root,
    read: (key) => pick(key).read(key),
    readText: (key) => pick(key).readText(key),
    readChunks: (key, chunk) => pick(key).readChunks(key, chunk),
    write: (key, data) => pick(key).write(key, data),
    writeOnce: (key, data) => pick(key).writeOnce(key, data),
    append: (key, data) => pick(key).append(key, data),
    exists: (key) => pick(key).exists(key),
    list: (prefix) =>
      prefix === ""
        ? Effect.map(Effect.all([local.list(""), remote.list("")]), ([a, b]) =>
            [...a.filter((k) => !isSharedKey(k)), ...b.filter(isSharedKey)].sort()
          )
        : pick(prefix).list(prefix),
    remove: (key) => pick(key).remove(key),
    locate: (key) => pick(key).locate(key)
  })
}
