import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { StorageError } from "../../domain/errors.js"
import type { Scalar } from "../../ml/frame.js"
import type { Storage } from "../../services/Storage.js"

/**
 * The prediction log: every served prediction, one JSON object per row, in
 * `serving/predictions/<model>/<YYYY-MM-DD>.jsonl` (UTC date of `ts`) under the workspace.
 * Drift monitoring reads these files; keep the format and the path stable.
 */
export interface PredictionLogRow {
  readonly ts: string
  readonly request_id: string
  readonly model: string
  readonly version: number
  /** The raw input features of the row, as the client sent them. */
  readonly features: Readonly<Record<string, Scalar>>
  /** A class label (classifiers) or a number (regressors). */
  readonly prediction: string | number
}

export const PREDICTION_LOG_DIR = "serving/predictions"

export const predictionLogKey = (model: string, ts: string): string => `${PREDICTION_LOG_DIR}/${model}/${ts.slice(0, 10)}.jsonl`

/** Where the batched writer puts lines (appends; creates files and folders as needed). */
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
  readonly onWritten?: (rows: number) => void
  readonly onError?: (error: unknown, rows: number) => void
}

/** One request's rows, kept as the request gave them and expanded only when written. */
interface Entry {
  readonly ts: string
  readonly requestId: string
  readonly model: string
  readonly version: number
  readonly features: Readonly<Record<string, Scalar>> | ReadonlyArray<Readonly<Record<string, Scalar>>>
  readonly prediction: string | number | ReadonlyArray<string | number>
  readonly rows: number
}

/**
 * An in-memory queue, written out on an interval and whenever it holds `flushRows` rows, never on the
 * request path. Bounded: when `maxQueue` rows are waiting, new rows are dropped and counted; a
 * request never waits for the disk. `close()` writes everything still queued.
 */
export class PredictionLog {
  private queue: Entry[] = []
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
    this.timer = setInterval(() => { void this.flush() }, options.flushIntervalMs)
    this.timer.unref()
  }

  get queued(): number {
    return this.queuedRows
  }

  /** Queues one request's rows: `features`/`prediction` are one row, or arrays of equal length (a batch). */
  add(
    ts: string, requestId: string, model: string, version: number,
    features: Entry["features"], prediction: Entry["prediction"]
  ): boolean {
    const rows = Array.isArray(features) ? features.length : 1
    if (this.closed || this.queuedRows + rows > this.options.maxQueue) {
      this.dropped += rows
      this.hooks.onDropped?.(rows)
      return false
    }
    this.queue.push({ ts, requestId, model, version, features, prediction, rows })
    this.queuedRows += rows
    if (this.queuedRows >= this.options.flushRows && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => { this.scheduled = false; void this.flush() })
    }
    return true
  }

  /** Writes what is queued now (one append per file); resolves when written. Never rejects. */
  flush(): Promise<void> {
    if (this.flushing !== null) return this.flushing.then(() => (this.queuedRows > 0 ? this.flush() : undefined))
    if (this.queue.length === 0) return Promise.resolve()
    const batch = this.queue
    this.queue = []
    this.queuedRows = 0
    this.flushing = this.write(batch).finally(() => { this.flushing = null })
    return this.flushing
  }

  private async write(batch: ReadonlyArray<Entry>): Promise<void> {
    const byKey = new Map<string, string[]>()
    for (const e of batch) {
      const key = predictionLogKey(e.model, e.ts)
      let lines = byKey.get(key)
      if (lines === undefined) byKey.set(key, lines = [])
      if (Array.isArray(e.features)) {
        const preds = e.prediction as ReadonlyArray<string | number>
        for (let i = 0; i < e.features.length; i++) lines.push(line(e, e.features[i]!, preds[i]!))
      } else {
        lines.push(line(e, e.features as Readonly<Record<string, Scalar>>, e.prediction as string | number))
      }
    }
    for (const [key, lines] of byKey) {
      try {
        await this.sink.append(key, lines.join("\n") + "\n")
        this.written += lines.length
        this.hooks.onWritten?.(lines.length)
      } catch (error) {
        this.failed += lines.length
        this.hooks.onError?.(error, lines.length)
      }
    }
  }

  /** Stops the timer, refuses new rows and writes everything still queued. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    while (this.queue.length > 0 || this.flushing !== null) await this.flush()
  }
}

const line = (e: Entry, features: Readonly<Record<string, Scalar>>, prediction: string | number): string =>
  JSON.stringify({ ts: e.ts, request_id: e.requestId, model: e.model, version: e.version, features, prediction })

// ---- reader -------------------------------------------------------------------------------------

const DATE_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/

const isRow = (v: unknown): v is PredictionLogRow => {
  if (v === null || typeof v !== "object") return false
  const r = v as Record<string, unknown>
  return typeof r.ts === "string" && typeof r.request_id === "string" && typeof r.model === "string" &&
    typeof r.version === "number" && r.features !== null && typeof r.features === "object" &&
    (typeof r.prediction === "string" || typeof r.prediction === "number")
}

const parseRows = (text: string, sinceIso: string | undefined, out: PredictionLogRow[]): void => {
  for (const l of text.split("\n")) {
    if (l === "") continue
    let v: unknown
    // a line cut short by a crash mid-append is skipped, not fatal
    try { v = JSON.parse(l) } catch { continue }
    if (!isRow(v)) continue
    if (sinceIso !== undefined && v.ts < sinceIso) continue
    out.push(v)
  }
}

type StorageApi = typeof Storage.Service

/**
 * Reads a model's prediction log, oldest file first: from a workspace folder (a path) or a Storage.
 * `since` keeps rows with ts ≥ since (and skips whole days before it). Unparsable lines are skipped.
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
        try { files = fs.readdirSync(dir) } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return []
          throw e
        }
        const out: PredictionLogRow[] = []
        for (const f of files.filter(wanted).sort()) parseRows(fs.readFileSync(path.join(dir, f), "utf8"), sinceIso, out)
        return out
      },
      catch: (e) => new StorageError({ op: "read", key: prefix, message: e instanceof Error ? e.message : String(e) })
    })
  }
  return Effect.gen(function* () {
    const keys = (yield* source.list(prefix)).filter((k) => k.slice(0, k.lastIndexOf("/")) === prefix && wanted(k.slice(prefix.length + 1)))
    const out: PredictionLogRow[] = []
    for (const k of [...keys].sort()) parseRows(yield* source.readText(k), sinceIso, out)
    return out
  })
}
