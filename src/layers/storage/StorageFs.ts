import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { randomBytes } from "node:crypto"
import { StorageError } from "../../domain/errors.js"
import { READ_CHUNK_BYTES, Storage, type StorageData, checkKey } from "../../services/Storage.js"

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Writes every byte (writeSync may write less than asked). */
const writeAll = (fd: number, data: Uint8Array): void => {
  for (let o = 0; o < data.byteLength;) o += fs.writeSync(fd, data, o, data.byteLength - o)
}

/** Workspace files on the local disk under `root`; writes go to a temp file, fsync, then rename. */
export const makeStorageFs = (root: string) => {
  const abs = path.resolve(root)
  const resolveKey = (op: string, key: string) => {
    const bad = checkKey(key)
    return bad === undefined
      ? Effect.succeed(path.join(abs, ...key.split("/")))
      : Effect.fail(new StorageError({ op, key, message: `the key ${bad}` }))
  }
  const attempt = <A>(op: string, key: string, f: (p: string) => A) =>
    Effect.flatMap(resolveKey(op, key), (p) =>
      Effect.try({ try: () => f(p), catch: (e) => new StorageError({ op, key, message: message(e), cause: e }) })
    )
  const atomicWrite = (p: string, data: StorageData, exclusive: boolean): boolean => {
    fs.mkdirSync(path.dirname(p), { recursive: true })
    if (exclusive && fs.existsSync(p)) return false
    const tmp = `${p}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`
    const fd = fs.openSync(tmp, "w")
    try {
      if (typeof data === "string") writeAll(fd, Buffer.from(data, "utf8"))
      else if (data instanceof Uint8Array) writeAll(fd, data)
      else for (const part of data) writeAll(fd, part)
      fs.fsyncSync(fd)
    } catch (e) {
      // a full disk or a failing producer leaves nothing behind, not a half-written temporary file
      fs.closeSync(fd)
      fs.rmSync(tmp, { force: true })
      throw e
    }
    fs.closeSync(fd)
    if (exclusive) {
      // link() fails if the target exists: two writers of the same content-addressed key cannot clash.
      try {
        fs.linkSync(tmp, p)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
        fs.rmSync(tmp, { force: true })
        return false
      }
      fs.rmSync(tmp, { force: true })
      return true
    }
    fs.renameSync(tmp, p)
    return true
  }
  const walk = (dir: string, out: string[]) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p, out)
      else if (e.isFile() && !e.name.includes(".tmp-")) out.push(path.relative(abs, p).split(path.sep).join("/"))
    }
  }
  return Storage.of({
    root: abs,
    // the file's own buffer as a plain Uint8Array view (no copy of a 75 MB snapshot)
    read: (key) =>
      attempt("read", key, (p) => {
        const b = fs.readFileSync(p)
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
      }),
    readText: (key) => attempt("read", key, (p) => fs.readFileSync(p, "utf8")),
    readChunks: (key, chunk) =>
      attempt("read", key, (p) => {
        const fd = fs.openSync(p, "r")
        try {
          const buf = new Uint8Array(READ_CHUNK_BYTES)
          for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) chunk(buf.subarray(0, n))
        } finally {
          fs.closeSync(fd)
        }
      }),
    write: (key, data) =>
      attempt("write", key, (p) => {
        atomicWrite(p, data, false)
      }),
    writeOnce: (key, data) => attempt("write", key, (p) => atomicWrite(p, data, true)),
    append: (key, data) =>
      attempt("append", key, (p) => {
        fs.mkdirSync(path.dirname(p), { recursive: true })
        fs.appendFileSync(p, data)
      }),
    exists: (key) => attempt("exists", key, (p) => fs.existsSync(p)),
    list: (prefix) =>
      prefix === ""
        ? Effect.sync(() => {
            const out: string[] = []
            walk(abs, out)
            return out.sort()
          })
        : attempt("list", prefix, (p) => {
            const out: string[] = []
            walk(p, out)
            return out.sort()
          }),
    remove: (key) => attempt("remove", key, (p) => fs.rmSync(p, { recursive: true, force: true })),
    locate: (key) => path.join(abs, ...key.split("/"))
  })
}

export const StorageFs = (root: string) => Layer.sync(Storage, () => makeStorageFs(root))
