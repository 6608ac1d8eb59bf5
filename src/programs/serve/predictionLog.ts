import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { StorageError } from "../../domain/errors.js"
import { joinParts } from "../../domain/bytes.js"
import type { Scalar } from "../../ml/frame.js"
import { READ_CHUNK_BYTES, type Storage } from "../../services/Storage.js"
import { PartialAppend } from "./predictionLogFile.js"

type Features = Readonly<Record<string, Scalar>>

// Shallow on purpose: the server validated every value when it answered the request, and checking
// each one again costs several times the JSON parse itself (here 30 features: +18 µs a row over 5 µs).
const FeaturesSchema = Schema.declare(
  (u: unknown): u is Features => u !== null && typeof u === "object" && !Array.isArray(u),
  { identifier: "Features", description: "the raw input features of the row, as the client sent them" }
)

/**
 * The prediction log: every served prediction, one JSON object per row, in
 * `serving/predictions/<model>/<YYYY-MM-DD>.jsonl` (UTC date of `ts`) under the workspace.
 * Drift monitoring reads these files; keep the format and the path stable.
 */
export const PredictionLogRow = Schema.Struct({
  ts: Schema.String,
  request_id: Schema.String,
  model: Schema.String,
  version: Schema.Number,
  /** The raw input features of the row, as the client sent them. */
  features: FeaturesSchema,
  /** A class label (classifiers) or a number (regressors). */
  prediction: Schema.Union(Schema.String, Schema.Number)
})
export type PredictionLogRow = typeof PredictionLogRow.Type

export const PREDICTION_LOG_DIR = "serving/predictions"

export const predictionLogKey = (model: string, ts: string): string =>
  `${PREDICTION_LOG_DIR}/${model}/${ts.slice(0, 10)}.jsonl`

/**
 * Where the batched writer puts lines (appends; creates files and folders as needed). An append
 * that fails part-way rejects with a PartialAppend saying how many leading lines the file kept, so
 * that the counters stay equal to what is in the file; any other rejection means none was kept.
 */
export interface PredictionSink {
  readonly append: (key: string, text: string) => Promise<void>
}

export interface PredictionLogOptions {
  readonly flushIntervalMs: number
  readonly flushRows: number
  readonly maxQueue: number
}

export interface PredictionLogHooks {
  readonly onDropped?: (rows: number) => void
  /** Rows now in the file; `whole` is false when they are the leading lines of an append that then failed. */
  readonly onWritten?: (rows: number, whole: boolean) => void
  /** A failed append: `rows` of its rows were lost (its leading whole lines may have been written: see onWritten). */
  readonly onError?: (error: unknown, rows: number) => void
}

/**
 * An in-memory queue of serialised lines, written out on an interval and whenever it holds
 * `flushRows` rows, never on the request path: a request only serialises its own rows (a few µs
 * each) and never waits for the disk. Bounded: when `maxQueue` rows are waiting, new rows are
 * dropped and counted. `close()` writes everything still queued.
 * (Serialising at add time costs the same CPU as later, and keeps the log in step with a
 * saturated server instead of falling behind and dropping.)
 */
export class PredictionLog {
  private queue = new Map<string, string[]>()
  private queuedRows = 0
  private flushing: Promise<void> | null = null
  private scheduled = false
  private closed = false
  private readonly timer: ReturnType<typeof setInterval>
  dropped = 0
  written = 0
  failed = 0

  constructor(
    private readonly sink: PredictionSink,
    private readonly options: PredictionLogOptions,
    private readonly hooks: PredictionLogHooks = {}
  ) {
    this.timer = setInterval(() => {
      void this.flush()
    }, options.flushIntervalMs)
    this.timer.unref()
  }

  get queued(): number {
    return this.queuedRows
  }

  /** Queues one request's rows: `features`/`prediction` are one row, or arrays of equal length (a batch). */
  add(
    ts: string,
    requestId: string,
    model: string,
    version: number,
    features: Features | ReadonlyArray<Features>,
    prediction: string | number | ReadonlyArray<string | number>
  ): boolean {
    const batch = Array.isArray(features)
    const rows = batch ? features.length : 1
    if (this.closed || this.queuedRows + rows > this.options.maxQueue) {
      this.dropped += rows
      this.hooks.onDropped?.(rows)
      return false
    }
    const key = predictionLogKey(model, ts)
    let lines = this.queue.get(key)
    if (lines === undefined) this.queue.set(key, (lines = []))
    // the same envelope for every row of a request, in the documented key order
    const head = `{"ts":${JSON.stringify(ts)},"request_id":${JSON.stringify(requestId)},"model":${JSON.stringify(model)},"version":${version},"features":`
    if (batch) {
      const preds = prediction as ReadonlyArray<string | number>
      for (let i = 0; i < rows; i++)
        lines.push(`${head}${JSON.stringify(features[i])},"prediction":${JSON.stringify(preds[i])}}`)
    } else {
      lines.push(`${head}${JSON.stringify(features)},"prediction":${JSON.stringify(prediction)}}`)
    }
    this.queuedRows += rows
    if (this.queuedRows >= this.options.flushRows && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        void this.flush()
      })
    }
    return true
  }

  /** Writes what is queued now (one append per file); resolves when written. Never rejects. */
  flush(): Promise<void> {
    if (this.flushing !== null) return this.flushing.then(() => (this.queuedRows > 0 ? this.flush() : undefined))
    if (this.queuedRows === 0) return Promise.resolve()
    const batch = this.queue
    this.queue = new Map()
    this.queuedRows = 0
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  private async write(batch: ReadonlyMap<string, ReadonlyArray<string>>): Promise<void> {
    for (const [key, lines] of batch) {
      try {
        await this.sink.append(key, lines.join("\n") + "\n")
        this.written += lines.length
        this.hooks.onWritten?.(lines.length, true)
      } catch (error) {
        const kept = error instanceof PartialAppend ? Math.min(error.linesWritten, lines.length) : 0
        if (kept > 0) {
          this.written += kept
          this.hooks.onWritten?.(kept, false)
        }
        this.failed += lines.length - kept
        this.hooks.onError?.(error instanceof PartialAppend ? error.cause : error, lines.length - kept)
      }
    }
  }

  /** Stops the timer, refuses new rows and writes everything still queued. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    while (this.queuedRows > 0 || this.flushing !== null) await this.flush()
  }
}

// ---- reader -------------------------------------------------------------------------------------

/** `<date>.jsonl`, then `<date>.<n>.jsonl` when a write error left a file that could not be repaired. */
const DATE_FILE = /^(\d{4}-\d{2}-\d{2})(?:\.(\d{1,6}))?\.jsonl$/

/** Day first, then segment number (lexical order would put `.1.jsonl` before `.jsonl`). */
const bySegment = (a: string, b: string): number => {
  const ma = DATE_FILE.exec(a)!
  const mb = DATE_FILE.exec(b)!
  return ma[1]!.localeCompare(mb[1]!) || Number(ma[2] ?? 0) - Number(mb[2] ?? 0)
}

const isRow = Schema.is(PredictionLogRow)

const parseLine = (l: string, sinceIso: string | undefined, out: PredictionLogRow[]): void => {
  if (l === "") return
  let v: unknown
  // a line cut short by a crash mid-append is skipped, not fatal
  try {
    v = JSON.parse(l)
  } catch {
    return
  }
  if (!isRow(v)) return
  if (sinceIso !== undefined && v.ts < sinceIso) return
  out.push(v)
}

const NL = 0x0a

/**
 * Rows from a log file handed over in byte pieces of any size: each piece is decoded up to its last
 * newline (a newline byte never occurs inside a UTF-8 sequence, so a character is never cut), the
 * bytes after it wait for the next piece. At most one piece and one unfinished line are held as text.
 */
export class LogLineReader {
  /** The bytes after the last newline so far, in the pieces they came in (joined once, at a newline). */
  private carry: Uint8Array[] = []
  // ignoreBOM: a decoder would otherwise drop U+FEFF at the start of every piece, wherever it falls
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true })
  private atStart = true
  constructor(
    private readonly sinceIso: string | undefined,
    readonly out: PredictionLogRow[]
  ) {}

  push(bytes: Uint8Array): void {
    const last = bytes.lastIndexOf(NL)
    if (last < 0) {
      // copied: the caller may reuse its buffer for the next piece
      if (bytes.length > 0) this.carry.push(bytes.slice())
      return
    }
    const head = this.carry.length > 0 ? joinParts([...this.carry, bytes.subarray(0, last)]) : bytes.subarray(0, last)
    for (const l of this.text(head).split("\n")) parseLine(l, this.sinceIso, this.out)
    this.carry = last + 1 < bytes.length ? [bytes.slice(last + 1)] : []
  }

  /** The end of the file: a last line without a newline counts when it is a whole row. */
  end(): void {
    if (this.carry.length > 0) parseLine(this.text(joinParts(this.carry)), this.sinceIso, this.out)
    this.carry = []
  }

  /** A byte-order mark counts only as the file's first character. */
  private text(bytes: Uint8Array): string {
    const t = this.decoder.decode(bytes)
    if (!this.atStart) return t
    this.atStart = false
    return t.charCodeAt(0) === 0xfeff ? t.slice(1) : t
  }
}

/** Reads a file from the disk in 1 MiB pieces into `lines`. */
const readFileLines = (file: string, lines: LogLineReader): void => {
  const fd = fs.openSync(file, "r")
  try {
    const buf = new Uint8Array(READ_CHUNK_BYTES)
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) lines.push(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  lines.end()
}

type StorageApi = typeof Storage.Service

/**
 * Reads a model's prediction log, oldest file first: from a workspace folder (a path) or a Storage.
 * `since` keeps rows with ts ≥ since (and skips whole days before it). Unparsable lines are skipped. Files
 * are read in pieces (never one string per file), so a day's log may be larger than a JavaScript string.
 */
export const readPredictionLog = (
  source: string | StorageApi,
  model: string,
  since?: Date
): Effect.Effect<ReadonlyArray<PredictionLogRow>, StorageError> => {
  const sinceIso = since?.toISOString()
  const sinceDay = sinceIso?.slice(0, 10)
  const prefix = `${PREDICTION_LOG_DIR}/${model}`
  const wanted = (file: string) => {
    const m = DATE_FILE.exec(file)
    return m !== null && (sinceDay === undefined || m[1]! >= sinceDay)
  }
  if (typeof source === "string") {
    return Effect.try({
      try: () => {
        const dir = path.join(path.resolve(source), ...prefix.split("/"))
        let files: string[]
        try {
          files = fs.readdirSync(dir)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return []
          throw e
        }
        const out: PredictionLogRow[] = []
        for (const f of files.filter(wanted).sort(bySegment))
          readFileLines(path.join(dir, f), new LogLineReader(sinceIso, out))
        return out
      },
      catch: (e) => new StorageError({ op: "read", key: prefix, message: e instanceof Error ? e.message : String(e) })
    })
  }
  return Effect.gen(function* () {
    const keys = (yield* source.list(prefix)).filter(
      (k) => k.slice(0, k.lastIndexOf("/")) === prefix && wanted(k.slice(prefix.length + 1))
    )
    const out: PredictionLogRow[] = []
    const file = (k: string) => k.slice(prefix.length + 1)
    for (const k of [...keys].sort((a, b) => bySegment(file(a), file(b)))) {
      const lines = new LogLineReader(sinceIso, out)
      yield* source.readChunks(k, (bytes) => lines.push(bytes))
      lines.end()
    }
    return out
  })
}
