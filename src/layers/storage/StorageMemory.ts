import { Effect, Layer } from "effect"
import { StorageError } from "../../domain/errors.js"
import { joinParts } from "../../domain/bytes.js"
import { READ_CHUNK_BYTES, Storage, type StorageData, checkKey } from "../../services/Storage.js"

/** Workspace files in memory, for tests and embedding; same key rules as StorageFs. */
export const makeStorageMemory = () => {
  const files = new Map<string, Uint8Array>()
  const enc = new TextEncoder()
  const dec = new TextDecoder()
  const check = (op: string, key: string) => {
    const bad = checkKey(key)
    return bad === undefined ? Effect.void : Effect.fail(new StorageError({ op, key, message: `the key ${bad}` }))
  }
  const get = (op: string, key: string) =>
    Effect.zipRight(
      check(op, key),
      Effect.suspend(() => {
        const v = files.get(key)
        return v ? Effect.succeed(v) : Effect.fail(new StorageError({ op, key, message: `no such file: ${key}` }))
      })
    )
  const bytes = (d: StorageData): Uint8Array => {
    if (typeof d === "string") return enc.encode(d)
    if (d instanceof Uint8Array) return new Uint8Array(d)
    return joinParts(d)
  }
  const under = (prefix: string) => (k: string) =>
    prefix === "" || k === prefix || k.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`)
  return Storage.of({
    root: "memory://",
    read: (key) => Effect.map(get("read", key), (b) => new Uint8Array(b)),
    readText: (key) => Effect.map(get("read", key), (b) => dec.decode(b)),
    readChunks: (key, chunk) =>
      Effect.flatMap(get("read", key), (b) =>
        Effect.try({
          try: () => {
            for (let o = 0; o < b.length; o += READ_CHUNK_BYTES)
              chunk(b.subarray(o, Math.min(b.length, o + READ_CHUNK_BYTES)))
          },
          catch: (e) =>
            new StorageError({ op: "read", key, message: e instanceof Error ? e.message : String(e), cause: e })
        })
      ),
    write: (key, data) =>
      Effect.zipRight(
        check("write", key),
        Effect.sync(() => {
          files.set(key, bytes(data))
        })
      ),
    writeOnce: (key, data) =>
      Effect.zipRight(
        check("write", key),
        Effect.sync(() => {
          if (files.has(key)) return false
          files.set(key, bytes(data))
          return true
        })
      ),
    append: (key, data) =>
      Effect.zipRight(
        check("append", key),
        Effect.sync(() => {
          const old = files.get(key) ?? new Uint8Array()
          const add = enc.encode(data)
          const next = new Uint8Array(old.length + add.length)
          next.set(old)
          next.set(add, old.length)
          files.set(key, next)
        })
      ),
    exists: (key) =>
      Effect.zipRight(
        check("exists", key),
        Effect.sync(() => files.has(key))
      ),
    list: (prefix) => Effect.sync(() => [...files.keys()].filter(under(prefix)).sort()),
    remove: (key) =>
      Effect.sync(() => {
        for (const k of [...files.keys()]) if (under(key)(k)) files.delete(k)
      }),
    locate: (key) => `memory://${key}`
  })
}

export const StorageMemory = Layer.sync(Storage, makeStorageMemory)
