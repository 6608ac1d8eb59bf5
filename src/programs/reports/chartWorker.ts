// The chart renderer's worker thread (src/programs/reports/charts.ts starts it; the bundled CLI has it
// as dist/chart-worker.js): vega and vega-lite load here as soon as the thread starts, on a core the
// run's first stages leave idle, so the evaluation report's charts do not wait for ~1.2 MB of chart
// library to compile on the main thread. Each message is one chart: { id, spec } → { id, svg } or
// { id, error }.
import { parentPort } from "node:worker_threads"

// Loaded, then run once on a throwaway chart with the marks the reports draw (points, lines, bars, rects,
// text, axes, a legend): vega's code is compiled lazily, function by function, on its first call, and
// that first call is most of a cold chart's cost. The real charts then render warm.
const warmUp = {
  data: {
    values: [
      { x: 0, y: 0, k: "a" },
      { x: 1, y: 2, k: "b" },
      { x: 2, y: 1, k: "a" }
    ]
  },
  layer: [
    {
      mark: "point",
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        color: { field: "k", type: "nominal" }
      }
    },
    { mark: "line", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } },
    {
      mark: "bar",
      encoding: { x: { field: "x", type: "quantitative", bin: true }, y: { aggregate: "count", type: "quantitative" } }
    },
    { mark: "rect", encoding: { x: { field: "k", type: "nominal" }, y: { field: "k", type: "nominal" } } },
    {
      mark: "text",
      encoding: {
        x: { field: "k", type: "nominal" },
        y: { field: "k", type: "nominal" },
        text: { field: "y", type: "quantitative" }
      }
    }
  ]
}

const engine = Promise.all([import("vega"), import("vega-lite")]).then(async ([vega, vl]) => {
  try {
    const view = new vega.View(vega.parse(vl.compile(warmUp as never).spec), { renderer: "none" })
    await view.toSVG()
    view.finalize()
  } catch {
    // only a warm-up: a real chart reports its own error
  }
  return [vega, vl] as const
})

parentPort!.on("message", (m: { readonly id: number; readonly spec: unknown }) => {
  engine
    .then(async ([vega, vl]) => {
      const view = new vega.View(vega.parse(vl.compile(m.spec as never).spec), { renderer: "none" })
      try {
        parentPort!.postMessage({ id: m.id, svg: await view.toSVG() })
      } finally {
        view.finalize()
      }
    })
    .catch((e: unknown) => parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }))
})
