import { Data, Effect } from "effect"
import type { Worker } from "node:worker_threads"
import { startModuleWorker } from "../../ml/parallel.js"
import type * as Vega from "vega"
import type * as VegaLite from "vega-lite"
import type { TopLevelSpec } from "vega-lite"

/**
 * Charts for the standalone HTML reports: Vega-Lite specs rendered to SVG strings on the server
 * (vega's headless View, renderer "none"), so a report is one file that opens without a server,
 * a CDN or any script. Vega escapes every text it draws; data values never become markup.
 */

export type ChartSpec = TopLevelSpec

export class ChartRenderError extends Data.TaggedError("ChartRenderError")<{
  readonly chart: string
  readonly message: string
  readonly cause?: unknown
}> {}

const FONT = "system-ui, -apple-system, Segoe UI, sans-serif"
export const COLORS = {
  candidate: "#4C78A8",
  production: "#F58518",
  reference: "#4C78A8",
  batch: "#F58518",
  guide: "#9e9e9e"
} as const

const base = {
  background: "white",
  config: {
    font: FONT,
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
    legend: { labelFontSize: 11, titleFontSize: 12 },
    title: { fontSize: 13, anchor: "start" as const },
    view: { stroke: "#ddd" }
  }
}

// vega and vega-lite load on the first chart only (about 1 s): a run that writes no HTML never pays.
let engine: Promise<{ readonly vega: typeof Vega; readonly vl: typeof VegaLite }> | undefined
const loadEngine = () =>
  (engine ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({ vega, vl })))

const renderHere = async (spec: ChartSpec): Promise<string> => {
  const { vega, vl } = await loadEngine()
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/**
 * A chart thread started ahead of need (prestartChartWorker): the charts render there, with the same
 * vega, so the same bytes. It never keeps the process alive; if it cannot start or dies, charts render
 * on the calling thread as before.
 */
interface ChartThread {
  readonly worker: Worker
  readonly pending: Map<number, { resolve: (svg: string) => void; reject: (e: Error) => void }>
  next: number
}
let thread: ChartThread | undefined

/**
 * Starts the chart thread now, so that vega compiles on an idle core while the run's first stages
 * work (a pipeline with an evaluation stage calls it at its start). Idempotent.
 */
export const prestartChartWorker = (): void => {
  if (thread !== undefined) return
  let worker: Worker
  try {
    worker = startChartWorker()
  } catch {
    return
  }
  worker.unref()
  const t: ChartThread = { worker, pending: new Map(), next: 0 }
  const fail = (why: string) => {
    if (thread === t) thread = undefined
    for (const p of t.pending.values()) p.reject(new Error(why))
    t.pending.clear()
  }
  worker.on("message", (m: { id: number; svg?: string; error?: string }) => {
    const p = t.pending.get(m.id)
    if (p === undefined) return
    t.pending.delete(m.id)
    if (m.svg !== undefined) {
      renderedOnThread++
      p.resolve(m.svg)
    } else p.reject(new Error(m.error ?? "the chart thread sent no chart"))
    if (t.pending.size === 0) worker.unref()
  })
  worker.on("error", (e) => fail(`the chart thread failed: ${e.message}`))
  worker.on("exit", (code) => fail(`the chart thread exited with code ${code}`))
  thread = t
}

let renderedOnThread = 0
/** Charts the chart thread has rendered in this process (tests check the thread is really used). */
export const chartsRenderedOnThread = (): number => renderedOnThread

/** undefined: the spec cannot be sent to the thread (not cloneable); render it here. */
const renderOnThread = (t: ChartThread, spec: ChartSpec): Promise<string> | undefined => {
  const id = t.next++
  const done = new Promise<string>((resolve, reject) => t.pending.set(id, { resolve, reject }))
  // held while a chart is on its way, so the process waits for it
  t.worker.ref()
  try {
    t.worker.postMessage({ id, spec })
  } catch {
    t.pending.delete(id)
    if (t.pending.size === 0) t.worker.unref()
    return undefined
  }
  return done
}

const startChartWorker = (): Worker => startModuleWorker(import.meta.url, "./chartWorker.ts", "chart-worker")

/** One chart as an SVG string (no XML prolog; ready to inline in HTML). */
export const renderSvg = (name: string, spec: ChartSpec): Effect.Effect<string, ChartRenderError> =>
  Effect.tryPromise({
    try: async () => {
      const t = thread
      const there = t === undefined ? undefined : renderOnThread(t, spec)
      if (there === undefined) return renderHere(spec)
      try {
        return await there
      } catch (e) {
        // a chart vega itself rejects fails here too, with vega's message; a lost thread falls back
        if (thread === t) throw e
        return renderHere(spec)
      }
    },
    catch: (cause) =>
      new ChartRenderError({ chart: name, message: cause instanceof Error ? cause.message : String(cause), cause })
  })

/** Several charts, rendered one after another (vega's view is single-threaded anyway). */
export const renderSvgs = <K extends string>(
  specs: Readonly<Record<K, ChartSpec>>
): Effect.Effect<Record<K, string>, ChartRenderError> =>
  Effect.forEach(Object.entries(specs) as Array<[K, ChartSpec]>, ([k, s]) =>
    Effect.map(renderSvg(k, s), (svg) => [k, svg] as const)
  ).pipe(Effect.map((pairs) => Object.fromEntries(pairs) as Record<K, string>))

/** Confusion matrix heatmap: true label down, predicted across, counts written in each cell. */
export const confusionHeatmap = (args: {
  readonly title: string
  readonly labels: ReadonlyArray<string>
  readonly counts: ReadonlyArray<ReadonlyArray<number>>
}): ChartSpec => {
  const values = args.labels.flatMap((t, i) =>
    args.labels.map((p, j) => {
      const row = args.counts[i] ?? []
      const total = row.reduce((a, b) => a + b, 0)
      return { actual: t, predicted: p, count: row[j] ?? 0, share: total === 0 ? 0 : (row[j] ?? 0) / total }
    })
  )
  const side = Math.min(480, Math.max(160, 40 * args.labels.length))
  const order = [...args.labels]
  return {
    ...base,
    title: args.title,
    width: side,
    height: side,
    data: { values },
    encoding: {
      x: { field: "predicted", type: "nominal", sort: order, title: "predicted", axis: { labelAngle: -40 } },
      y: { field: "actual", type: "nominal", sort: order, title: "actual" }
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "share",
            type: "quantitative",
            title: "share of row",
            scale: { scheme: "blues", domain: [0, 1] }
          },
          tooltip: [
            { field: "actual", type: "nominal" },
            { field: "predicted", type: "nominal" },
            { field: "count", type: "quantitative" }
          ]
        }
      },
      {
        mark: { type: "text", fontSize: args.labels.length > 12 ? 8 : 11 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: "datum.share > 0.5", value: "white" }, value: "#222" }
        }
      }
    ]
  }
}

/** A curve (ROC, precision–recall, reliability) with an optional dashed reference line. */
export const curveChart = (args: {
  readonly title: string
  readonly x: { readonly title: string; readonly values: ReadonlyArray<number> }
  readonly y: { readonly title: string; readonly values: ReadonlyArray<number> }
  readonly guide?: { readonly label: string; readonly points: ReadonlyArray<readonly [number, number]> }
  /** Draw each point (reliability bins) sized by this weight. */
  readonly weights?: ReadonlyArray<number>
  readonly interpolate?: "linear" | "step-after"
}): ChartSpec => {
  const values = args.x.values.map((x, i) => ({ x, y: args.y.values[i]!, w: args.weights?.[i] ?? 1 }))
  const scale = { domain: [0, 1], nice: false, zero: true }
  const layers: NonNullable<Extract<ChartSpec, { layer: unknown }>["layer"]> = []
  if (args.guide !== undefined) {
    layers.push({
      data: { values: args.guide.points.map(([x, y]) => ({ x, y, what: args.guide!.label })) },
      mark: { type: "line", strokeDash: [4, 4], color: COLORS.guide },
      encoding: {
        x: { field: "x", type: "quantitative", scale },
        y: { field: "y", type: "quantitative", scale }
      }
    })
  }
  layers.push({
    data: { values },
    mark: {
      type: "line",
      color: COLORS.candidate,
      interpolate: args.interpolate ?? "linear",
      point: args.weights !== undefined
    },
    encoding: {
      x: { field: "x", type: "quantitative", scale, title: args.x.title },
      y: { field: "y", type: "quantitative", scale, title: args.y.title },
      ...(args.weights !== undefined
        ? { tooltip: [{ field: "x" }, { field: "y" }, { field: "w", title: "rows" }] }
        : {})
    }
  })
  return { ...base, title: args.title, width: 300, height: 260, layer: layers }
}

/** Scatter of points with a dashed line (y = x for predicted vs actual, y = 0 for residuals). */
export const scatterChart = (args: {
  readonly title: string
  readonly x: { readonly title: string; readonly values: ReadonlyArray<number> }
  readonly y: { readonly title: string; readonly values: ReadonlyArray<number> }
  readonly line: "identity" | "zero"
}): ChartSpec => {
  const values = args.x.values.map((x, i) => ({ x, y: args.y.values[i]! }))
  const xs = args.x.values,
    ys = args.y.values
  // a loop, not Math.min(...xs): the points are sampled today, but a spread of a data-sized array overflows
  let lo = Infinity,
    hi = -Infinity
  for (const v of args.line === "identity" ? [xs, ys] : [xs])
    for (const x of v) {
      if (x < lo) lo = x
      if (x > hi) hi = x
    }
  const guide =
    args.line === "identity"
      ? [
          { x: lo, y: lo },
          { x: hi, y: hi }
        ]
      : [
          { x: lo, y: 0 },
          { x: hi, y: 0 }
        ]
  return {
    ...base,
    title: args.title,
    width: 320,
    height: 260,
    layer: [
      {
        data: { values: guide },
        mark: { type: "line", strokeDash: [4, 4], color: COLORS.guide },
        encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } }
      },
      {
        data: { values },
        mark: { type: "point", filled: true, opacity: 0.55, size: 18, color: COLORS.candidate },
        encoding: {
          x: { field: "x", type: "quantitative", title: args.x.title, scale: { zero: false } },
          y: { field: "y", type: "quantitative", title: args.y.title, scale: { zero: false } }
        }
      }
    ]
  }
}

/** Histogram of values (residuals) in `bins` equal-width bins. */
export const histogramChart = (args: {
  readonly title: string
  readonly xTitle: string
  readonly values: ReadonlyArray<number>
}): ChartSpec => ({
  ...base,
  title: args.title,
  width: 320,
  height: 200,
  data: { values: args.values.map((v) => ({ v })) },
  mark: { type: "bar", color: COLORS.candidate },
  encoding: {
    x: { field: "v", type: "quantitative", bin: { maxbins: 30 }, title: args.xTitle },
    y: { aggregate: "count", type: "quantitative", title: "rows" }
  }
})

/**
 * Candidate against Production per metric in one view (one view renders in a tenth of the time of
 * one per metric): each metric's change as a share of Production's value, a bar from Production (0)
 * to the candidate, green when better, red when worse (the verdict knows which metrics are errors),
 * and both values written beside it.
 */
export const comparisonChart = (args: {
  readonly title: string
  readonly rows: ReadonlyArray<{
    readonly metric: string
    readonly candidate: number
    readonly production: number
    readonly verdict: string
  }>
}): ChartSpec => {
  const values = args.rows.map((r) => ({
    metric: r.metric,
    change:
      r.production === 0 ? r.candidate - r.production : ((r.candidate - r.production) / Math.abs(r.production)) * 100,
    verdict: r.verdict,
    values: `${fmtValue(r.production)} → ${fmtValue(r.candidate)}`
  }))
  const y = {
    field: "metric",
    type: "nominal" as const,
    sort: args.rows.map((r) => r.metric),
    title: null,
    axis: { labelLimit: 240 }
  }
  const extent = Math.max(0.5, ...values.map((v) => Math.abs(v.change)))
  const x = {
    field: "change",
    type: "quantitative" as const,
    title: "candidate − Production, % of Production's value",
    scale: { domain: [-extent * 1.1, extent * 1.1] }
  }
  return {
    ...base,
    title: args.title,
    width: 320,
    height: { step: 22 },
    data: { values },
    layer: [
      { mark: { type: "rule", color: "#555" }, encoding: { x: { datum: 0, type: "quantitative" } } },
      {
        mark: { type: "bar", height: 12 },
        encoding: {
          y,
          x,
          x2: { datum: 0 },
          color: {
            field: "verdict",
            type: "nominal",
            title: "candidate is",
            legend: { orient: "bottom", direction: "horizontal" },
            scale: { domain: ["better", "equal", "worse"], range: ["#2e7d32", "#9e9e9e", "#c62828"] }
          },
          tooltip: [
            { field: "metric", type: "nominal" },
            { field: "values", type: "nominal", title: "Production → candidate" },
            { field: "change", type: "quantitative", format: "+.2f", title: "change, %" }
          ]
        }
      },
      {
        mark: { type: "point", filled: true, size: 40, color: COLORS.candidate },
        encoding: { y, x }
      },
      {
        mark: { type: "text", align: "left", dx: 6, fontSize: 11, color: "#333" },
        encoding: { y, x: { value: 320 }, text: { field: "values", type: "nominal" } }
      }
    ]
  }
}

const fmtValue = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4))

/** Reference and batch shares per bin of one quantity, as two lines (per-channel pixel histograms). */
export const overlayHistogram = (args: {
  readonly title: string
  readonly xTitle: string
  readonly centers: ReadonlyArray<number>
  readonly series: ReadonlyArray<{
    readonly name: string
    readonly shares: ReadonlyArray<number>
    readonly color: string
  }>
}): ChartSpec => {
  const values = args.series.flatMap((s) =>
    args.centers.map((x, i) => ({ x, share: s.shares[i] ?? 0, series: s.name }))
  )
  return {
    ...base,
    title: args.title,
    width: 240,
    height: 150,
    data: { values },
    mark: { type: "line", interpolate: "step" },
    encoding: {
      x: { field: "x", type: "quantitative", title: args.xTitle, scale: { domain: [0, 1], nice: false } },
      // A square-root scale: a spike at black (backgrounds) would otherwise flatten the rest.
      y: { field: "share", type: "quantitative", title: "share of pixels (√ scale)", scale: { type: "sqrt" } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: args.series.map((s) => s.name), range: args.series.map((s) => s.color) }
      }
    }
  }
}

/** A bar per labelled value (pyramid distance per level, scenario distances). */
export const barChart = (args: {
  readonly title: string
  readonly xTitle: string
  readonly bars: ReadonlyArray<{ readonly label: string; readonly value: number }>
}): ChartSpec => ({
  ...base,
  title: args.title,
  width: 320,
  height: Math.max(60, 24 * args.bars.length),
  data: { values: args.bars.map((b) => ({ label: b.label, value: b.value })) },
  mark: { type: "bar", color: COLORS.batch },
  encoding: {
    y: { field: "label", type: "nominal", sort: args.bars.map((b) => b.label), title: null },
    x: { field: "value", type: "quantitative", title: args.xTitle },
    tooltip: [
      { field: "label", type: "nominal" },
      { field: "value", type: "quantitative", format: ".4f" }
    ]
  }
})
