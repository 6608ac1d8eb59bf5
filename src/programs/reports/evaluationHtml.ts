import { Effect } from "effect"
import type { Curves, RegressionPoints } from "../evaluate/diagnostics.js"
import type { EvaluationReport } from "../evaluate/evaluationReport.js"
import {
  type ChartRenderError,
  type ChartSpec,
  comparisonChart,
  confusionHeatmap,
  curveChart,
  histogramChart,
  renderSvgs,
  scatterChart
} from "./charts.js"
import { esc, fmt } from "./escape.js"

/**
 * evaluation_report.html: the evaluation report as one self-contained page (inline SVG charts
 * rendered on the server, inline CSS, no script, no external reference): metrics, the comparison
 * with Production drawn per metric, and per split the confusion matrix with per-class scores, ROC,
 * precision–recall and calibration curves, or the regression plots.
 */

const VERDICT_COLOR: Record<string, string> = {
  better: "#2e7d32",
  equal: "#546e7a",
  worse: "#c62828",
  mixed: "#ef6c00",
  no_baseline: "#757575"
}

/** The charts a report gets, keyed by the id the page places them under. */
export const evaluationChartSpecs = (r: EvaluationReport): Record<string, ChartSpec> => {
  const specs: Record<string, ChartSpec> = {}
  const compared = r.comparison.flatMap((c) =>
    c.candidate !== null && c.production !== null
      ? [{ metric: `${c.metric} (${c.split})`, candidate: c.candidate, production: c.production, verdict: c.verdict }]
      : []
  )
  if (compared.length > 0) {
    specs.comparison = comparisonChart({
      title: `Candidate vs Production version ${r.production?.version ?? "?"} on the same rows`,
      rows: compared
    })
  }
  for (const [split, cm] of Object.entries(r.confusion_matrix ?? {})) {
    specs[`${split}-confusion`] = confusionHeatmap({ title: `Confusion matrix (${split})`, ...cm })
  }
  for (const [split, c] of Object.entries((r.curves ?? {}) as Record<string, Curves>)) {
    if (c.roc !== undefined) {
      specs[`${split}-roc`] = curveChart({
        title: `ROC (${split}), AUC ${fmt(c.roc.auc)}`,
        x: { title: "false positive rate", values: c.roc.fpr },
        y: { title: "true positive rate", values: c.roc.tpr },
        guide: {
          label: "chance",
          points: [
            [0, 0],
            [1, 1]
          ]
        }
      })
    }
    if (c.precision_recall !== undefined) {
      const pr = c.precision_recall
      specs[`${split}-pr`] = curveChart({
        title: `Precision–recall (${split}), AP ${fmt(pr.average_precision)}`,
        x: { title: "recall", values: pr.recall },
        y: { title: "precision", values: pr.precision },
        guide: {
          label: "prevalence",
          points: [
            [0, pr.prevalence],
            [1, pr.prevalence]
          ]
        },
        interpolate: "step-after"
      })
    }
    if (c.calibration !== undefined && c.calibration.bins.length > 0) {
      const bins = c.calibration.bins
      specs[`${split}-calibration`] = curveChart({
        title:
          c.calibration.kind === "positive_class"
            ? `Calibration (${split}): P(${c.positive_label ?? "positive"})`
            : `Calibration (${split}): confidence of the predicted class`,
        x: { title: "mean predicted probability", values: bins.map((b) => b.mean_predicted) },
        y: {
          title: c.calibration.kind === "positive_class" ? "fraction of positives" : "fraction correct",
          values: bins.map((b) => b.fraction_positive)
        },
        guide: {
          label: "perfectly calibrated",
          points: [
            [0, 0],
            [1, 1]
          ]
        },
        weights: bins.map((b) => b.count)
      })
    }
  }
  for (const [split, p] of Object.entries((r.regression_plots ?? {}) as Record<string, RegressionPoints>)) {
    if (p.shown === 0) continue
    specs[`${split}-pred-actual`] = scatterChart({
      title: `Predicted vs actual (${split})`,
      x: { title: "actual", values: p.actual },
      y: { title: "predicted", values: p.predicted },
      line: "identity"
    })
    specs[`${split}-residuals`] = scatterChart({
      title: `Residuals (${split})`,
      x: { title: "predicted", values: p.predicted },
      y: { title: "actual − predicted", values: p.residual },
      line: "zero"
    })
    specs[`${split}-residual-hist`] = histogramChart({
      title: `Residual distribution (${split})`,
      xTitle: "actual − predicted",
      values: p.residual
    })
  }
  return specs
}

const figure = (svgs: Readonly<Record<string, string>>, id: string, caption: string): string =>
  svgs[id] === undefined
    ? ""
    : `<figure id="chart-${esc(id)}">${svgs[id]}<figcaption>${esc(caption)}</figcaption></figure>`

const badge = (v: string) => `<span class="badge" style="background:${VERDICT_COLOR[v] ?? "#555"}">${esc(v)}</span>`

const metricsTable = (r: EvaluationReport): string => {
  const splits = Object.keys(r.metrics)
  const names = [...new Set(splits.flatMap((s) => Object.keys(r.metrics[s] ?? {})))].sort()
  if (splits.length === 0) return "<p>No split was scored.</p>"
  const requested = new Set(r.requested_metrics)
  return `<div class="scroll"><table><thead><tr><th>metric</th>${splits.map((s) => `<th>${esc(s)} (${esc(r.splits[s] ?? "?")} rows)</th>`).join("")}</tr></thead><tbody>
${names.map((m) => `<tr${requested.has(m) ? ' class="requested"' : ""}><td>${esc(m)}</td>${splits.map((s) => `<td>${fmt(r.metrics[s]?.[m])}</td>`).join("")}</tr>`).join("\n")}
</tbody></table></div>`
}

const comparisonSection = (r: EvaluationReport, svgs: Readonly<Record<string, string>>): string => {
  const p = r.production
  if (p === null)
    return `<p>No Production version of <b>${esc(r.registered_model)}</b> to compare with: this candidate would be the first.</p>`
  const rows = r.comparison
    .map(
      (c) =>
        `<tr><td>${esc(c.metric)}</td><td>${esc(c.split)}</td><td>${fmt(c.candidate)}</td><td>${fmt(c.production)}</td><td>${c.delta === null ? "—" : (c.delta > 0 ? "+" : "") + fmt(c.delta)}</td><td>${badge(c.verdict)}</td></tr>`
    )
    .join("\n")
  const compared = Object.entries(p.compared_rows)
    .map(([s, n]) => `${n.compared}/${n.total} ${esc(s)}`)
    .join(", ")
  return `<p>Production version ${esc(p.version)} (run ${esc(p.run_id)}) re-scored with its own transform on ${compared || "no"} rows it did not train on; the candidate scored on the same rows.${p.unavailable !== null ? ` <b>Not compared:</b> ${esc(p.unavailable)}` : ""}</p>
${figure(svgs, "comparison", "Each row one metric: the bar goes from Production (0) to the candidate, as a share of Production's value; green better, red worse (lower is better for error metrics). Right: Production → candidate.")}
<div class="scroll"><table><thead><tr><th>metric</th><th>split</th><th>candidate</th><th>production</th><th>delta</th><th>verdict</th></tr></thead><tbody>
${rows}
</tbody></table></div>`
}

const perClassTable = (rows: EvaluationReport["per_class"], split: string): string => {
  const pc = rows?.[split]
  if (pc === undefined) return ""
  return `<div class="scroll"><table class="per-class"><thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>
${pc.map((c) => `<tr><td>${esc(c.label)}</td><td>${fmt(c.precision)}</td><td>${fmt(c.recall)}</td><td>${fmt(c.f1)}</td><td>${esc(c.support)}</td></tr>`).join("\n")}
</tbody></table></div>`
}

const splitSection = (r: EvaluationReport, split: string, svgs: Readonly<Record<string, string>>): string => {
  const curves = (r.curves?.[split] ?? undefined) as Curves | undefined
  const reg = (r.regression_plots?.[split] ?? undefined) as RegressionPoints | undefined
  const parts: string[] = [`<section class="split" id="split-${esc(split)}"><h2>${esc(split)} split</h2>`]
  if (r.confusion_matrix?.[split] !== undefined) {
    parts.push(
      `<div class="row">${figure(svgs, `${split}-confusion`, "Rows: actual label; columns: predicted. Colour: share of the row.")}<div>${perClassTable(r.per_class, split)}</div></div>`
    )
  }
  if (curves !== undefined) {
    const notes: string[] = []
    if (curves.roc !== undefined && curves.roc.points > curves.roc.fpr.length)
      notes.push(`ROC drawn from ${curves.roc.fpr.length} of its ${curves.roc.points} points`)
    if (curves.precision_recall !== undefined && curves.precision_recall.points > curves.precision_recall.recall.length)
      notes.push(
        `precision–recall drawn from ${curves.precision_recall.recall.length} of its ${curves.precision_recall.points} points`
      )
    if (curves.positive_label !== undefined && curves.roc === undefined)
      notes.push("ROC and precision–recall need both classes in this split")
    parts.push(
      `<div class="row">${figure(svgs, `${split}-roc`, `Positive class: ${curves.positive_label ?? ""}. Dashed: a classifier that guesses.`)}${figure(svgs, `${split}-pr`, "Dashed: the share of positives (a classifier that guesses).")}${figure(svgs, `${split}-calibration`, "Points: bins of 0.1 with rows in them; dashed: perfect calibration.")}</div>`
    )
    if (notes.length > 0) parts.push(`<p class="note">${notes.map(esc).join("; ")}.</p>`)
  }
  if (reg !== undefined) {
    parts.push(
      `<div class="row">${figure(svgs, `${split}-pred-actual`, "Dashed: predicted = actual.")}${figure(svgs, `${split}-residuals`, "Dashed: no error.")}${figure(svgs, `${split}-residual-hist`, "")}</div>`
    )
    if (reg.shown < reg.rows) parts.push(`<p class="note">${reg.shown} of ${reg.rows} rows drawn, evenly spaced.</p>`)
  }
  parts.push("</section>")
  return parts.join("\n")
}

const driftHoldoutSection = (r: EvaluationReport): string => {
  const d = r.drift_holdout
  if (d === null) return ""
  return `<h2>Held-out drifted rows</h2>
<p>Staging ${esc(d.staging_id)}: ${esc(d.rows)} rows of the staged drift batch, held out from training.</p>
<div class="scroll"><table><thead><tr><th>metric</th><th>candidate</th><th>production</th><th>delta</th><th>verdict</th></tr></thead><tbody>
${d.comparison.map((c) => `<tr><td>${esc(c.metric)}</td><td>${fmt(c.candidate)}</td><td>${fmt(c.production)}</td><td>${fmt(c.delta)}</td><td>${badge(c.verdict)}</td></tr>`).join("\n")}
</tbody></table></div>`
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1180px;color:#222;padding:0 1rem}
table{border-collapse:collapse;font-size:.9rem;min-width:18rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
td:not(:first-child){font-variant-numeric:tabular-nums}tr.requested td:first-child{font-weight:600}
.badge{color:#fff;border-radius:3px;padding:0 .4rem;font-size:.8rem}.scroll{overflow-x:auto;max-width:100%}
.row{display:flex;flex-wrap:wrap;gap:1.2rem;align-items:flex-start}figure{margin:.5rem 0;max-width:100%;overflow-x:auto}
figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#555;max-width:32rem}.note{font-size:.85rem;color:#555}
.warn{color:#8a6d3b}section.split{border-top:1px solid #eee;margin-top:1.5rem}header p{color:#444}`

/** The page around the charts (pure: the SVGs are rendered beforehand). */
export const renderEvaluationPage = (r: EvaluationReport, svgs: Readonly<Record<string, string>>): string => {
  const splits = [
    ...new Set([
      ...Object.keys(r.confusion_matrix ?? {}),
      ...Object.keys(r.curves ?? {}),
      ...Object.keys(r.regression_plots ?? {})
    ])
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation: ${esc(r.registered_model)} — run ${esc(r.run_id)}</title>
<style>${STYLE}</style></head><body>
<header><h1>Evaluation: ${esc(r.registered_model)} ${badge(r.overall_verdict)}</h1>
<p>Run ${esc(r.run_id)} · ${esc(r.task_type)} · model ${esc(r.model_kind)} · ${Object.entries(r.splits)
    .map(([s, n]) => `${esc(s)} ${esc(n)} rows`)
    .join(", ")}</p></header>
${r.warnings.length > 0 ? `<ul class="warn">${r.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
<h2>Metrics</h2>
${metricsTable(r)}
<h2>Compared with Production</h2>
${comparisonSection(r, svgs)}
${driftHoldoutSection(r)}
${splits.map((s) => splitSection(r, s, svgs)).join("\n")}
<p class="note">Written by driftgate beside evaluation_report.json. The charts are inline SVG: this file needs no network.</p>
</body></html>
`
}

/** evaluation_report.html for a report: renders its charts, then the page. */
export const evaluationHtml = (r: EvaluationReport): Effect.Effect<string, ChartRenderError> =>
  Effect.map(renderSvgs(evaluationChartSpecs(r)), (svgs) => renderEvaluationPage(r, svgs))
