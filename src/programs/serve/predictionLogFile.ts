import * as fsp from "node:fs/promises"
import * as path from "node:path"

/**
 * The file operations the prediction log needs, as a layer of its own so that a test can make a
 * write fail half-way (a full disk writes what fits, then answers ENOSPC) without filling a disk.
 */
export interface LogFiles {
  /** Opens `file` for appending (O_APPEND), creating it and its folders when absent. */
  readonly open: (file: string) => Promise<LogFile>
}

export interface LogFile {
  readonly size: () => Promise<number>
  /** Reads up to `length` bytes at `position`; returns how many were read. */
  readonly read: (buffer: Uint8Array, length: number, position: number) => Promise<number>
  /** Appends bytes; may write fewer than asked (returns how many) or throw after writing some. */
  readonly write: (buffer: Uint8Array, offset: number, length: number) => Promise<number>
  readonly truncate: (length: number) => Promise<void>
  readonly close: () => Promise<void>
}

/** The real files, through node:fs/promises (never blocks the event loop). */
export const nodeLogFiles: LogFiles = {
  open: async (file) => {
    await fsp.mkdir(path.dirname(file), { recursive: true })
    const h = await fsp.open(file, "a+")
    return {
      size: async () => (await h.stat()).size,
      read: async (buffer, length, position) => (await h.read(buffer, 0, length, position)).bytesRead,
      write: async (buffer, offset, length) => (await h.write(buffer, offset, length)).bytesWritten,
      truncate: (length) => h.truncate(length),
      close: () => h.close()
    }
  }
}

/**
 * An append that did not write everything. The file holds exactly the first `linesWritten` lines
 * of the text (a partial last line was cut off again), unless `truncateFailed`, in which case the
 * cut line is still there and the next append starts a new segment of the file.
 */
export class PartialAppend extends Error {
  constructor(
    readonly linesWritten: number,
    readonly linesFailed: number,
    override readonly cause: unknown
  ) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = "PartialAppend"
  }
}

const NL = 0x0a
const TAIL_CHUNK = 64 * 1024

const countLines = (buf: Uint8Array, end: number): number => {
  let n = 0
  for (let i = 0; i < end; i++) if (buf[i] === NL) n++
  return n
}

/** The length of `file` up to and including its last newline (0 when it has none). */
const lastCompleteLine = async (file: LogFile, size: number): Promise<number> => {
  const buf = new Uint8Array(TAIL_CHUNK)
  let end = size
  while (end > 0) {
    const start = Math.max(0, end - TAIL_CHUNK)
    const n = await file.read(buf, end - start, start)
    for (let i = n - 1; i >= 0; i--) if (buf[i] === NL) return start + i + 1
    end = start
  }
  return 0
}

/** `2026-01-02.jsonl` → `2026-01-02.1.jsonl` (segment 1), the next file of the same day. */
export const segmentName = (file: string, segment: number): string =>
  segment === 0 ? file : file.replace(/\.jsonl$/, `.${segment}.jsonl`)

/**
 * Appends whole lines to files under `root`. Every append starts on a line boundary: a file whose
 * last line was cut short (a crash mid-write, a disk that filled up) is truncated back to its last
 * complete line first; a write that fails half-way truncates back to the last complete line it
 * wrote and says how many lines that kept (PartialAppend). If truncating itself fails, that file is
 * left for good and the day's log continues in a new segment (`<date>.<n>.jsonl`). One writer per
 * file (one serve process per workspace log).
 */
export const makeLogFileWriter = (root: string, files: LogFiles = nodeLogFiles) => {
  /** key → segment now written to (absent: 0, the plain file). */
  const segments = new Map<string, number>()
  const append = async (key: string, text: string): Promise<void> => {
    const bytes = Buffer.from(text, "utf8")
    const total = countLines(bytes, bytes.length)
    const segment = segments.get(key) ?? 0
    const file = await files.open(segmentName(path.join(root, ...key.split("/")), segment))
    let written = 0
    let start = 0
    try {
      start = await file.size()
      if (start > 0) {
        const last = new Uint8Array(1)
        await file.read(last, 1, start - 1)
        if (last[0] !== NL) {
          const keep = await lastCompleteLine(file, start)
          try {
            await file.truncate(keep)
          } catch {
            segments.set(key, segment + 1)
            await file.close()
            return append(key, text)
          }
          start = keep
        }
      }
      while (written < bytes.length) {
        const n = await file.write(bytes, written, bytes.length - written)
        if (n <= 0) throw new Error(`write returned ${n}`)
        written += n
      }
    } catch (error) {
      // keep the whole lines that made it, cut the partial one: the file ends on a line boundary again
      let keep = written
      while (keep > 0 && bytes[keep - 1] !== NL) keep--
      const kept = countLines(bytes, keep)
      if (keep < written) {
        try {
          await file.truncate(start + keep)
        } catch {
          segments.set(key, segment + 1)
        }
      }
      throw new PartialAppend(kept, total - kept, error)
    } finally {
      await file.close().catch(() => undefined)
    }
  }
  return { append }
}
