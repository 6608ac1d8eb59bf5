import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { compareMetrics, overallVerdict, type SplitMetrics } from "../../src/domain/comparison.js"
import { classificationMetrics, regressionMetrics } from "../../src/ml/metrics.js"
import { MAX_PLOT_POINTS, splitDiagnostics, thinIndices } from "../../src/programs/evaluate/diagnostics.js"
import { type EvaluationReport, evaluationReport } from "../../src/programs/evaluate/evaluationReport.js"
import { evaluationHtml } from "../../src/programs/reports/evaluationHtml.js"

// Expected values: scikit-learn 1.2.1, by tests/ml/curves_reference.py (committed beside its output).
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, "../ml/curves_reference.json"), "utf8")) as {
  binary: ReadonlyArray<{
    name: string
    y_true: number[]
    score: number[]
    y_pred: number[]
    roc: { fpr: number[]; tpr: number[]; auc: number }
    pr: { precision: number[]; recall: number[]; average_precision: number }
    calibration: { prob_true: number[]; prob_pred: number[]; count: number[] }
    confusion_matrix: number[][]
    per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] }
  }>
  multiclass: {
    classes: number
    y_true: number[]
    y_pred: number[]
    proba: number[]
    confusion_matrix: number[][]
    per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] }
    calibration: { prob_true: number[]; prob_pred: number[] }
  }
  regression: { y_true: number[]; y_pred: number[]; residuals: number[] }
}

const HOSTILE = "<img src=x onerror=alert(1)>"

const close6 = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>) => {
  expect(actual.length).toBe(expected.length)
  // The report rounds curve points to 6 decimals.
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `index ${i}`).toBeLessThanOrEqual(5e-7))
}

const binary = ref.binary.find((c) => c.name === "fine")!
// The positive class (index 1 in sklearn's 0/1) is second in label order, and its name is hostile.
const binaryClasses = ["benign", HOSTILE]
const binaryProba = Float64Array.from(binary.score.flatMap((s) => [1 - s, s]))

const reportOf = (args: {
  task: string
  metrics: SplitMetrics
  diagnostics: Parameters<typeof evaluationReport>[0]["diagnostics"]
  production?: SplitMetrics
}): EvaluationReport => {
  const requested = Object.keys(Object.values(args.metrics)[0] ?? {})
  const comparison = compareMetrics(requested, args.metrics, args.production ?? null)
  return evaluationReport({
    runId: "run-1",
    registeredModel: `model ${HOSTILE}`,
    task: args.task,
    modelKind: "random_forest",
    splits: { val: 200 },
    requested,
    metrics: args.metrics,
    baseline:
      args.production === undefined
        ? null
        : {
            version: 3,
            runId: "run-0",
            metrics: args.production,
            candidateMetrics: args.metrics,
            rows: { val: { compared: 200, total: 200 } },
            source: "re-scored",
            unavailable: null
          },
    comparison,
    verdict: overallVerdict(comparison),
    driftHoldout: null,
    warnings: [`a warning naming ${HOSTILE}`],
    diagnostics: args.diagnostics
  })
}

const binaryReport = () => {
  const d = splitDiagnostics({
    task: "classification",
    y: Float64Array.from(binary.y_true),
    predictions: Float64Array.from(binary.y_pred),
    proba: binaryProba,
    classes: binaryClasses,
    positive: 1
  })
  const metrics = { val: classificationMetrics(binary.y_true, binary.y_pred, binaryProba, 2, 1) }
  const production = { val: Object.fromEntries(Object.entries(metrics.val).map(([k, v]) => [k, v * 0.97])) }
  return reportOf({ task: "classification", metrics, diagnostics: { val: d }, production })
}

describe("evaluation_report.json: per-class scores, confusion matrix and curves (against scikit-learn)", () => {
  it("binary: per_class, confusion_matrix, ROC, precision–recall and calibration of the positive class", () => {
    const r = binaryReport()
    expect(r.confusion_matrix?.val).toEqual({ labels: binaryClasses, counts: binary.confusion_matrix })
    const pc = r.per_class!.val!
    expect(pc.map((c) => c.label)).toEqual(binaryClasses)
    close6(
      pc.map((c) => c.precision),
      binary.per_class.precision
    )
    close6(
      pc.map((c) => c.recall),
      binary.per_class.recall
    )
    close6(
      pc.map((c) => c.f1),
      binary.per_class.f1
    )
    expect(pc.map((c) => c.support)).toEqual(binary.per_class.support)
    const c = r.curves!.val!
    expect(c.positive_label).toBe(HOSTILE)
    close6(c.roc!.fpr, binary.roc.fpr)
    close6(c.roc!.tpr, binary.roc.tpr)
    expect(c.roc!.auc).toBeCloseTo(binary.roc.auc, 6)
    close6(c.precision_recall!.precision, binary.pr.precision)
    close6(c.precision_recall!.recall, binary.pr.recall)
    expect(c.precision_recall!.average_precision).toBeCloseTo(binary.pr.average_precision, 6)
    expect(c.calibration!.kind).toBe("positive_class")
    close6(
      c.calibration!.bins.map((b) => b.fraction_positive),
      binary.calibration.prob_true
    )
    close6(
      c.calibration!.bins.map((b) => b.mean_predicted),
      binary.calibration.prob_pred
    )
    expect(c.calibration!.bins.map((b) => b.count)).toEqual(binary.calibration.count)
    expect(r.regression_plots).toBeNull()
  })

  it("binary with the positive class first: the curves rank by that class's probability", () => {
    // Same rows with the label order swapped: class 0 is now the positive one.
    const d = splitDiagnostics({
      task: "classification",
      y: Float64Array.from(binary.y_true, (v) => 1 - v),
      predictions: Float64Array.from(binary.y_pred, (v) => 1 - v),
      proba: Float64Array.from(binary.score.flatMap((s) => [s, 1 - s])),
      classes: ["pos", "neg"],
      positive: 0
    })
    expect(d.curves!.positive_label).toBe("pos")
    expect(d.curves!.roc!.auc).toBeCloseTo(binary.roc.auc, 12)
    expect(d.curves!.precision_recall!.average_precision).toBeCloseTo(binary.pr.average_precision, 12)
  })

  it("multiclass: confusion matrix, per-class scores (a never-predicted class), top-label calibration, no ROC", () => {
    const m = ref.multiclass
    const labels = ["a", "b", "c", "d"]
    const d = splitDiagnostics({
      task: "classification",
      y: Float64Array.from(m.y_true),
      predictions: Float64Array.from(m.y_pred),
      proba: Float64Array.from(m.proba),
      classes: labels,
      positive: undefined
    })
    expect(d.confusion_matrix).toEqual({ labels, counts: m.confusion_matrix })
    close6(
      d.per_class!.map((c) => c.precision),
      m.per_class.precision
    )
    close6(
      d.per_class!.map((c) => c.f1),
      m.per_class.f1
    )
    expect(d.curves!.roc).toBeUndefined()
    expect(d.curves!.calibration!.kind).toBe("top_label")
    close6(
      d.curves!.calibration!.bins.map((b) => b.fraction_positive),
      m.calibration.prob_true
    )
    close6(
      d.curves!.calibration!.bins.map((b) => b.mean_predicted),
      m.calibration.prob_pred
    )
  })

  it("regression: predicted-vs-actual and residuals, bounded to MAX_PLOT_POINTS evenly spaced rows", () => {
    const g = ref.regression
    const d = splitDiagnostics({
      task: "regression",
      y: Float64Array.from(g.y_true),
      predictions: Float64Array.from(g.y_pred),
      proba: undefined,
      classes: null,
      positive: undefined
    })
    expect(d.per_class).toBeUndefined()
    expect(d.regression!.shown).toBe(g.y_true.length)
    close6(d.regression!.residual, g.residuals)
    const n = 5 * MAX_PLOT_POINTS + 3
    const big = splitDiagnostics({
      task: "regression",
      y: Float64Array.from({ length: n }, (_, i) => i),
      predictions: Float64Array.from({ length: n }, (_, i) => i + 0.5),
      proba: undefined,
      classes: null,
      positive: undefined
    })
    expect(big.regression!.rows).toBe(n)
    expect(big.regression!.shown).toBe(MAX_PLOT_POINTS)
    expect(big.regression!.actual[0]).toBe(0)
    expect(big.regression!.actual[MAX_PLOT_POINTS - 1]).toBe(n - 1)
    expect(new Set(big.regression!.residual)).toEqual(new Set([-0.5]))
    expect(thinIndices(10, 4)).toEqual([0, 3, 6, 9])
    const report = reportOf({
      task: "regression",
      metrics: { val: regressionMetrics(g.y_true, g.y_pred) },
      diagnostics: { val: d }
    })
    expect(report.per_class).toBeNull()
    expect(report.confusion_matrix).toBeNull()
    expect(report.regression_plots!.val!.shown).toBe(g.y_true.length)
  })
})

/** Saves a rendered page under the OS temp dir for a look in a browser (path printed by the test name). */
const keep = (name: string, html: string) => {
  const dir = path.join(os.tmpdir(), "driftgate-evaluation-html")
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, name), html)
}

const externalReferences = (html: string) =>
  html.match(/(src|href)\s*=\s*["']?\s*(https?:|\/\/)|<link\b|<script\b|@import|url\(\s*["']?https?:/gi) ?? []

describe("evaluation_report.html", () => {
  it("one self-contained file: the charts as inline SVG, no script, no external reference", async () => {
    const html = await Effect.runPromise(evaluationHtml(binaryReport()))
    keep("binary.html", html)
    expect(externalReferences(html)).toEqual([])
    // comparison, confusion matrix, ROC, precision–recall, calibration
    expect(html.match(/<svg\b/g)?.length).toBe(5)
    for (const id of ["comparison", "val-confusion", "val-roc", "val-pr", "val-calibration"]) {
      expect(html).toContain(`id="chart-${id}"`)
    }
    // The drawn comparison carries both values of a metric.
    expect(html).toContain("Candidate vs Production version 3")
  })

  it("escapes a hostile label, model name and warning everywhere (tables, chart text, titles)", async () => {
    const html = await Effect.runPromise(evaluationHtml(binaryReport()))
    expect(html).not.toContain(HOSTILE)
    expect(html).not.toMatch(/<img\b/i)
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;")
  })

  it("regression: predicted-vs-actual, residuals and their distribution; no Production is said in words", async () => {
    const g = ref.regression
    const d = splitDiagnostics({
      task: "regression",
      y: Float64Array.from(g.y_true),
      predictions: Float64Array.from(g.y_pred),
      proba: undefined,
      classes: null,
      positive: undefined
    })
    const html = await Effect.runPromise(
      evaluationHtml(
        reportOf({
          task: "regression",
          metrics: { val: regressionMetrics(g.y_true, g.y_pred) },
          diagnostics: { val: d }
        })
      )
    )
    keep("regression.html", html)
    expect(externalReferences(html)).toEqual([])
    expect(html.match(/<svg\b/g)?.length).toBe(3)
    expect(html).toContain('id="chart-val-pred-actual"')
    expect(html).toContain('id="chart-val-residuals"')
    expect(html).toContain("No Production version of")
  })
})
