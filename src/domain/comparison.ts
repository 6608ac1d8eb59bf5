import { lowerIsBetter } from "./rules.js"

/** Metrics per split: `{ val: { accuracy: 0.93, … }, test: { … } }`. */
export type SplitMetrics = Record<string, Record<string, number>>

/** One metric on one split: the candidate beside Production, the delta and which way it went. */
export interface MetricComparison {
  readonly metric: string
  readonly split: string
  readonly candidate: number | null
  readonly production: number | null
  readonly delta: number | null
  readonly verdict: "better" | "worse" | "equal" | "no_baseline"
}

export type OverallVerdict = "better" | "worse" | "equal" | "mixed" | "no_baseline"

/** Per requested metric and split: candidate vs Production, delta and verdict (error metrics: lower is better). */
export const compareMetrics = (
  metrics: ReadonlyArray<string>,
  candidate: SplitMetrics,
  production: SplitMetrics | null
): MetricComparison[] => {
  const out: MetricComparison[] = []
  for (const split of Object.keys(candidate)) {
    for (const metric of metrics) {
      const c = candidate[split]?.[metric]
      if (c === undefined) continue
      const p = production?.[split]?.[metric]
      if (p === undefined) {
        out.push({ metric, split, candidate: c, production: null, delta: null, verdict: "no_baseline" })
        continue
      }
      const delta = c - p
      const better = lowerIsBetter(metric) ? delta < 0 : delta > 0
      out.push({
        metric,
        split,
        candidate: c,
        production: p,
        delta,
        verdict: Math.abs(delta) <= 1e-12 ? "equal" : better ? "better" : "worse"
      })
    }
  }
  return out
}

export const overallVerdict = (rows: ReadonlyArray<MetricComparison>): OverallVerdict => {
  const v = new Set(rows.map((r) => r.verdict))
  if (rows.length === 0 || v.has("no_baseline")) return "no_baseline"
  if (v.has("better") && v.has("worse")) return "mixed"
  return v.has("better") ? "better" : v.has("worse") ? "worse" : "equal"
}
