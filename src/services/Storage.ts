import { Context, type Effect } from "effect"
import type { StorageError } from "../domain/errors.js"

/**
 * What a write takes: text, bytes, or bytes in pieces written one after another (an Arrow file as its
 * writer's buffers: joining 75 MB into one new buffer first would cost a copy of the whole file).
 */
export type StorageData = Uint8Array | string | ReadonlyArray<Uint8Array>

/**
 * The workspace's files, addressed by relative POSIX keys ("datasets/iris/<sha>/data.csv").
 * Writes are atomic (temp file + rename): a reader sees the old bytes or the new, never half.
 */
export class Storage extends Context.Tag("driftgate/Storage")<
  Storage,
  {
    /** Where the workspace lives (an absolute folder, or memory://). */
    readonly root: string
    readonly read: (key: string) => Effect.Effect<Uint8Array, StorageError>
    readonly readText: (key: string) => Effect.Effect<string, StorageError>
    /**
     * Reads a file in pieces, in order, handing each to `chunk` (a view valid only during the call): a log
     * can outgrow the longest string JavaScript allows, and a reader of lines needs one piece at a time.
     */
    readonly readChunks: (key: string, chunk: (bytes: Uint8Array) => void) => Effect.Effect<void, StorageError>
    readonly write: (key: string, data: StorageData) => Effect.Effect<void, StorageError>
    /** Writes only if the key is absent (immutable, content-addressed data); true when it wrote. */
    readonly writeOnce: (key: string, data: StorageData) => Effect.Effect<boolean, StorageError>
    /** Appends to a file (logs), creating it when absent. */
    readonly append: (key: string, data: string) => Effect.Effect<void, StorageError>
    readonly exists: (key: string) => Effect.Effect<boolean, StorageError>
    /** Keys of the files under a prefix, sorted. */
    readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<string>, StorageError>
    /** Removes a file or a whole prefix. */
    readonly remove: (key: string) => Effect.Effect<void, StorageError>
    /** The absolute location of a key (for manifests and messages). */
    readonly locate: (key: string) => string
  }
>() {}

/** The piece size readChunks hands out (1 MiB). */
export const READ_CHUNK_BYTES = 1 << 20

/** Rejects keys that would escape the workspace. */
export const checkKey = (key: string): string | undefined => {
  if (key === "" || key.startsWith("/") || key.includes("\\") || /^[A-Za-z]:/.test(key))
    return "must be a relative path"
  if (key.split("/").some((p) => p === ".." || p === "." || p === ""))
    return "may not contain '..', '.' or empty segments"
  return undefined
}
