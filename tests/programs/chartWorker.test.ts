import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import {
  chartsRenderedOnThread,
  histogramChart,
  prestartChartWorker,
  renderSvg,
  scatterChart
} from "../../src/programs/reports/charts.js"

// A run with an evaluation stage starts the chart thread at its start (vega compiles and warms up on an
// idle core while the data is prepared); its charts must be the bytes the calling thread renders.

const scatter = scatterChart({
  title: "Predicted vs actual (val)",
  x: { title: "actual", values: [0.5, 1.25, 2, 3.5, 4] },
  y: { title: "predicted", values: [0.75, 1, 2.5, 3, 4.25] },
  line: "identity"
})
const histogram = histogramChart({ title: "Residuals", xTitle: "actual − predicted", values: [-1, -0.5, 0, 0.25, 1] })

describe("report charts on the chart thread", () => {
  it("are the same SVG as rendered on the calling thread, and a bad spec is still a ChartRenderError", async () => {
    const here = await Effect.runPromise(Effect.all([renderSvg("scatter", scatter), renderSvg("hist", histogram)]))
    prestartChartWorker()
    const there = await Effect.runPromise(Effect.all([renderSvg("scatter", scatter), renderSvg("hist", histogram)]))
    expect(chartsRenderedOnThread()).toBeGreaterThanOrEqual(2)
    expect(there[0]).toBe(here[0])
    expect(there[1]).toBe(here[1])
    expect(there[0]).toContain("<svg")
    const bad = await Effect.runPromiseExit(
      renderSvg("broken", {
        mark: "point",
        data: { values: [] },
        encoding: { x: { field: "x", type: "nonsense" } }
      } as never)
    )
    expect(Exit.isFailure(bad)).toBe(true)
    expect(JSON.stringify(bad)).toContain("ChartRenderError")
    // a spec the thread cannot be sent (a function among the data) renders on the calling thread
    const odd = { ...scatter, data: { values: [{ x: 1, y: 2, note: () => "not cloneable" }] } } as never
    const oddSvg = await Effect.runPromise(renderSvg("odd", odd))
    expect(oddSvg).toContain("<svg")
  }, 60_000)
})
