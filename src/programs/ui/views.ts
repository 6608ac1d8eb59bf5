import { Effect, Option } from "effect"
import type { AuditRecord, ChainVerdict, ModelVersion } from "../../domain/registry.js"
import { Registry } from "../../services/Registry.js"
import { Storage } from "../../services/Storage.js"
import {
  type RunDetail,
  type RunPage,
  type RunQuery,
  type RunSort,
  type RunStatus,
  Tracker
} from "../../services/Tracker.js"
import { readHistory } from "../drift/reference.js"
import type { DriftHistoryLine } from "../drift/report.js"
import { driftKeys, reportKeys } from "../workspace.js"

/**
 * What each dashboard page shows, read through the Tracker, Registry and Storage services only (so the
 * dashboard works on any store those ports have a layer for). Nothing here writes.
 */

/** Metrics shown as columns of the run list, when a run of the page has them. */
export const KEY_METRICS = [
  "val.accuracy",
  "val.f1_weighted",
  "val.roc_auc",
  "val.r2",
  "val.rmse",
  "val.mae",
  "test.accuracy",
  "test.r2"
] as const

const STATUSES: ReadonlyArray<RunStatus> = ["running", "completed", "failed", "blocked", "cancelled", "interrupted"]
const SORTS: ReadonlyArray<RunSort> = ["started_at", "experiment", "status", "duration"]
export const PAGE_SIZES = [25, 50, 100, 200] as const

export interface RunsParams {
  readonly page: number
  readonly per: number
  readonly experiment: string | undefined
  readonly status: RunStatus | undefined
  readonly dataset: string | undefined
  readonly sort: RunSort
  readonly descending: boolean
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined)

/** The run list's query string, read leniently: an unknown value falls back to the default. */
export const runsParams = (q: Readonly<Record<string, unknown>>): RunsParams => {
  const page = Number(text(q["page"]) ?? "1")
  const per = Number(text(q["per"]) ?? "50")
  const status = text(q["status"])
  const sort = text(q["sort"])
  return {
    // bounded so the offset stays a safe integer (a huge page number is an empty page, not a store error)
    page: Number.isInteger(page) && page >= 1 ? Math.min(page, 1_000_000) : 1,
    per: (PAGE_SIZES as ReadonlyArray<number>).includes(per) ? per : 50,
    experiment: text(q["experiment"]),
    status: STATUSES.includes(status as RunStatus) ? (status as RunStatus) : undefined,
    dataset: text(q["dataset"]),
    sort: SORTS.includes(sort as RunSort) ? (sort as RunSort) : "started_at",
    descending: text(q["dir"]) !== "asc"
  }
}

export interface RunsView {
  readonly params: RunsParams
  readonly page: RunPage
  readonly statuses: ReadonlyArray<RunStatus>
  /** The key metrics that at least one run of this page has, in KEY_METRICS order. */
  readonly metricColumns: ReadonlyArray<string>
}

export const runsView = Effect.fn("ui.runs")(function* (params: RunsParams) {
  const tracker = yield* Tracker
  const query: RunQuery = {
    experiment: params.experiment,
    status: params.status,
    dataset: params.dataset,
    sort: params.sort,
    descending: params.descending,
    offset: (params.page - 1) * params.per,
    limit: params.per,
    metrics: KEY_METRICS
  }
  const page = yield* tracker.queryRuns(query)
  const metricColumns = KEY_METRICS.filter((k) => page.runs.some((r) => r.metrics[k] !== undefined))
  return { params, page, statuses: STATUSES, metricColumns } satisfies RunsView
})

/** The files in a workspace folder (Storage keys have no trailing slash; a sibling with the same prefix is not in it). */
const filesIn = (dir: string) =>
  Effect.map(
    Effect.flatMap(Storage, (s) => s.list(dir)),
    (keys) => keys.filter((k) => k.startsWith(`${dir}/`))
  )

/** A JSON file of the workspace, or undefined when absent or not JSON (the page then says it is missing). */
const readJson = (key: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    if (!(yield* storage.exists(key))) return undefined
    const raw = yield* storage.readText(key)
    try {
      return JSON.parse(raw) as unknown
    } catch {
      return undefined
    }
  })

const record = (v: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined

export interface StageRow {
  readonly name: string
  readonly status: string
  readonly durationS: number | null
  readonly error: string | null
}

export interface ConfusionMatrix {
  readonly split: string
  readonly labels: ReadonlyArray<string>
  readonly counts: ReadonlyArray<ReadonlyArray<number>>
}

export interface RunFile {
  readonly key: string
  /** What the link says: the file name, with its folder when two would read the same. */
  readonly label: string
  readonly kind: "report" | "artifact"
}

export interface RunView {
  readonly detail: RunDetail
  readonly stages: ReadonlyArray<StageRow>
  readonly promotion: Readonly<Record<string, unknown>> | undefined
  readonly confusion: ReadonlyArray<ConfusionMatrix>
  readonly files: ReadonlyArray<RunFile>
  /** Key of reports/<run>/evaluation_report.html when the run has one. */
  readonly evaluationHtml: string | undefined
  /** Registered versions made from this run. */
  readonly versions: ReadonlyArray<ModelVersion>
}

/** Confusion matrices of an evaluation report: `confusion_matrix: { <split>: { labels, counts } }`. */
export const confusionMatrices = (evaluation: unknown): ConfusionMatrix[] => {
  const by = record(record(evaluation)?.["confusion_matrix"])
  if (by === undefined) return []
  const out: ConfusionMatrix[] = []
  for (const [split, v] of Object.entries(by)) {
    const cm = record(v)
    const labels = cm?.["labels"]
    const counts = cm?.["counts"]
    if (
      Array.isArray(labels) &&
      Array.isArray(counts) &&
      counts.length === labels.length &&
      counts.every(
        (row) => Array.isArray(row) && row.length === labels.length && row.every((c) => typeof c === "number")
      )
    )
      out.push({ split, labels: labels.map(String), counts: counts as number[][] })
  }
  return out
}

/** The files a run's page may offer for download: its reports folder and the artifacts the tracker lists. */
export const runFiles = Effect.fn("ui.runFiles")(function* (detail: RunDetail) {
  const storage = yield* Storage
  const reports = yield* filesIn(reportKeys(detail.run.runId).dir)
  const artifacts: string[] = []
  for (const a of detail.artifacts) if (yield* storage.exists(a.path)) artifacts.push(a.path)
  const keys = [...new Set([...reports, ...artifacts])]
  const names = keys.map((k) => k.slice(k.lastIndexOf("/") + 1))
  return keys.map((key, i): RunFile => ({
    key,
    label: names.indexOf(names[i]!) !== names.lastIndexOf(names[i]!) ? key : names[i]!,
    kind: reports.includes(key) ? "report" : "artifact"
  }))
})

export const runView = Effect.fn("ui.run")(function* (runId: string) {
  const tracker = yield* Tracker
  const registry = yield* Registry
  const detail = yield* tracker.getRun(runId)
  const keys = reportKeys(runId)
  const report = record(yield* readJson(keys.file("run_report.json")))
  const stages: StageRow[] = (Array.isArray(report?.["stages"]) ? (report["stages"] as unknown[]) : []).flatMap((s) => {
    const r = record(s)
    if (r === undefined || typeof r["name"] !== "string") return []
    return [
      {
        name: r["name"],
        status: typeof r["status"] === "string" ? r["status"] : "unknown",
        durationS: typeof r["duration_s"] === "number" ? r["duration_s"] : null,
        error: typeof r["error"] === "string" ? r["error"] : null
      }
    ]
  })
  const promotion = record(yield* readJson(keys.file("promotion_decision.json")))
  const confusion = confusionMatrices(yield* readJson(keys.file("evaluation_report.json")))
  const files = yield* runFiles(detail)
  const evaluationHtml = files.find((f) => f.key === keys.file("evaluation_report.html"))?.key
  const versions: ModelVersion[] = []
  for (const m of yield* registry.listModels())
    for (const v of yield* registry.listVersions(m.name)) if (v.runId === runId) versions.push(v)
  return { detail, stages, promotion, confusion, files, evaluationHtml, versions } satisfies RunView
})

export interface CompareView {
  readonly runs: ReadonlyArray<RunDetail>
  /** Every param key of any run, sorted, with each run's value (undefined: the run has none). */
  readonly params: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<string | undefined> }>
  readonly metrics: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<number | undefined> }>
  readonly anchors: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<string | undefined> }>
}

/** Params, metrics (step 0) and anchors of two or more runs, key by key. */
export const compareView = Effect.fn("ui.compare")(function* (runIds: ReadonlyArray<string>) {
  const tracker = yield* Tracker
  const runs: RunDetail[] = []
  for (const id of runIds) runs.push(yield* tracker.getRun(id))
  const keysOf = (f: (r: RunDetail) => ReadonlyArray<string>) => [...new Set(runs.flatMap(f))].sort()
  const params = keysOf((r) => Object.keys(r.params)).map((key) => ({ key, values: runs.map((r) => r.params[key]) }))
  const metrics = keysOf((r) => r.metrics.filter((m) => m.step === 0).map((m) => m.key)).map((key) => ({
    key,
    values: runs.map((r) => r.metrics.find((m) => m.key === key && m.step === 0)?.value)
  }))
  const anchors = keysOf((r) => Object.keys(r.run.anchors)).map((key) => ({
    key,
    values: runs.map((r) => r.run.anchors[key])
  }))
  return { runs, params, metrics, anchors } satisfies CompareView
})

/** Which version a process serves now, per model (serve knows; `driftgate ui` alone serves nothing). */
export type ServedNow = () => ReadonlyMap<string, { readonly version: number; readonly stage: string }> | undefined

export interface ModelRow {
  readonly name: string
  readonly createdAt: string
  readonly versions: number
  readonly production: ModelVersion | undefined
  readonly lastChange: AuditRecord | undefined
}

export const modelsView = Effect.fn("ui.models")(function* () {
  const registry = yield* Registry
  const audit = yield* registry.audit()
  const rows: ModelRow[] = []
  for (const m of yield* registry.listModels()) {
    const versions = yield* registry.listVersions(m.name)
    rows.push({
      name: m.name,
      createdAt: m.createdAt,
      versions: versions.length,
      production: versions.find((v) => v.stage === "Production"),
      lastChange: audit.filter((a) => a.model === m.name).at(-1)
    })
  }
  const verdict: ChainVerdict = yield* registry.verify()
  return { models: rows, verdict }
})

export interface ModelView {
  readonly name: string
  readonly versions: ReadonlyArray<ModelVersion>
  /** Newest first. */
  readonly audit: ReadonlyArray<AuditRecord>
  readonly verdict: ChainVerdict
  readonly pendingRollbacks: number
  readonly hasDrift: boolean
}

export const modelView = Effect.fn("ui.model")(function* (name: string) {
  const registry = yield* Registry
  const models = yield* registry.listModels()
  if (!models.some((m) => m.name === name)) return undefined
  const versions = [...(yield* registry.listVersions(name))].sort((a, b) => b.version - a.version)
  const audit = [...(yield* registry.audit(name))].reverse()
  const verdict = yield* registry.verify()
  const pendingRollbacks = (yield* registry.pendingRollbacks()).filter((p) => p.model === name).length
  const hasDrift = (yield* readHistory(name)).length > 0
  return { name, versions, audit, verdict, pendingRollbacks, hasDrift } satisfies ModelView
})

export interface DriftPoint extends DriftHistoryLine {
  /** The report's workspace key (its HTML, else its JSON), when it is inside this model's drift folder. */
  readonly reportKey: string | undefined
}

export interface DriftView {
  readonly model: string
  readonly points: ReadonlyArray<DriftPoint>
  /** The drifted-share threshold of the latest report (its `thresholds.drift_share`), when recorded. */
  readonly shareThreshold: number | undefined
  /** The columns the latest check found drifted (from its report JSON), with their test and p-value or statistic. */
  readonly latestColumns: ReadonlyArray<{
    readonly column: string
    readonly test: string
    readonly statistic: number | null
    readonly pValue: number | null
    readonly severity: string
  }>
  readonly production: ModelVersion | undefined
}

/**
 * The history records where the report was written as an absolute path; only a file directly in
 * drift/<model>/ is offered (the last path segment, looked up in that folder), never the path as given.
 */
const reportKeyOf = (model: string, report: string, present: ReadonlyArray<string>): string | undefined => {
  const base = report.slice(Math.max(report.lastIndexOf("/"), report.lastIndexOf("\\")) + 1)
  const key = `${driftKeys(model).dir}/${base}`
  // the history names the JSON or the HTML of a check: a person gets the HTML when it is there
  const html = key.replace(/\.json$/, ".html")
  return present.includes(html) ? html : present.includes(key) ? key : undefined
}

/** Models with a drift history. */
export const driftModels = Effect.fn("ui.driftModels")(function* () {
  const registry = yield* Registry
  const out: Array<{ name: string; checks: number; last: DriftHistoryLine | undefined }> = []
  for (const m of yield* registry.listModels()) {
    const h = yield* readHistory(m.name)
    if (h.length > 0) out.push({ name: m.name, checks: h.length, last: h.at(-1) })
  }
  return out
})

export const driftView = Effect.fn("ui.drift")(function* (model: string) {
  const registry = yield* Registry
  const history = yield* readHistory(model)
  const present = history.length > 0 ? yield* filesIn(driftKeys(model).dir) : []
  const points = history.map((h) => ({ ...h, reportKey: reportKeyOf(model, h.report, present) }))
  let shareThreshold: number | undefined
  const latestColumns: Array<DriftView["latestColumns"][number]> = []
  const last = points.at(-1)?.reportKey
  if (last !== undefined) {
    const json = record(yield* readJson(last.replace(/\.html$/, ".json")))
    const t = record(json?.["thresholds"])?.["drift_share"]
    if (typeof t === "number") shareThreshold = t
    const columns = record(json?.["result"])?.["columns"]
    for (const c of Array.isArray(columns) ? columns : []) {
      const col = record(c)
      if (col === undefined || col["drifted"] !== true || typeof col["column"] !== "string") continue
      latestColumns.push({
        column: col["column"],
        test: String(col["test"] ?? ""),
        statistic: typeof col["statistic"] === "number" ? col["statistic"] : null,
        pValue: typeof col["pValue"] === "number" ? col["pValue"] : null,
        severity: String(col["severity"] ?? "")
      })
    }
  }
  const production = Option.getOrUndefined(yield* registry.getProduction(model))
  return { model, points, shareThreshold, latestColumns, production } satisfies DriftView
})

/**
 * A file the dashboard may send: a run's report or artifact (only keys its run page lists) or a drift
 * report of a model's history. Anything else is undefined (404): no path from a request is opened as given.
 */
export const allowedFile = Effect.fn("ui.file")(function* (
  from: { readonly run: string; readonly key: string } | { readonly model: string; readonly key: string }
) {
  if ("run" in from) {
    const tracker = yield* Tracker
    const detail = yield* Effect.option(tracker.getRun(from.run))
    if (Option.isNone(detail)) return undefined
    const files = yield* runFiles(detail.value)
    return files.some((f) => f.key === from.key) ? from.key : undefined
  }
  const present = yield* filesIn(driftKeys(from.model).dir)
  const history = yield* readHistory(from.model)
  const keys = new Set(
    history.flatMap((h) => {
      const html = reportKeyOf(from.model, h.report, present)
      return html === undefined ? [] : [html, html.replace(/\.html$/, ".json")]
    })
  )
  return keys.has(from.key) && present.includes(from.key) ? from.key : undefined
})
