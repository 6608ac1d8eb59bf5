import type { ColumnDriftWithCorrection } from "../../stats/datasetDrift.js"
import { SEVERITY_ORDER, type DriftReport } from "./report.js"

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

const fmt = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? "—"
    : Math.abs(v) > 0 && Math.abs(v) < 1e-4
      ? v.toExponential(2)
      : v.toFixed(digits)

const COLORS = { reference: "#4C78A8", current: "#F58518" }
const SEV_COLOR: Record<string, string> = { none: "#2e7d32", low: "#9e9d24", medium: "#ef6c00", high: "#c62828" }

/** Side-by-side bars of the reference and current shares per bin or category, as inline SVG. */
const chart = (c: ColumnDriftWithCorrection): string => {
  const s = c.summary
  const labels: string[] =
    s.type === "histogram"
      ? s.reference.map((_, i) => `${fmt(s.edges[i], 3)} – ${fmt(s.edges[i + 1], 3)}`)
      : [...s.categories.map(String), ...(s.otherReference + s.otherCurrent > 0 ? ["(other)"] : [])]
  const ref =
    s.type === "histogram"
      ? s.reference
      : [...s.reference, ...(s.otherReference + s.otherCurrent > 0 ? [s.otherReference] : [])]
  const cur =
    s.type === "histogram"
      ? s.current
      : [...s.current, ...(s.otherReference + s.otherCurrent > 0 ? [s.otherCurrent] : [])]
  const tr = ref.reduce((a, b) => a + b, 0) || 1
  const tc = cur.reduce((a, b) => a + b, 0) || 1
  const shares = labels.map((_, i) => [ref[i]! / tr, cur[i]! / tc] as const)
  const max = Math.max(1e-9, ...shares.flat())
  const W = 520,
    H = 150,
    pad = 24,
    n = labels.length
  const slot = (W - pad * 2) / Math.max(n, 1)
  const bw = Math.max(1, slot / 2 - 1)
  const bars = shares
    .map(([r, q], i) => {
      const x = pad + i * slot
      const hr = (r / max) * (H - pad * 2),
        hq = (q / max) * (H - pad * 2)
      return (
        `<g><title>${esc(labels[i])}: reference ${(r * 100).toFixed(1)}%, current ${(q * 100).toFixed(1)}%</title>` +
        `<rect x="${x.toFixed(1)}" y="${(H - pad - hr).toFixed(1)}" width="${bw.toFixed(1)}" height="${hr.toFixed(1)}" fill="${COLORS.reference}"/>` +
        `<rect x="${(x + bw + 1).toFixed(1)}" y="${(H - pad - hq).toFixed(1)}" width="${bw.toFixed(1)}" height="${hq.toFixed(1)}" fill="${COLORS.current}"/></g>`
      )
    })
    .join("")
  const first = esc(labels[0] ?? ""),
    last = esc(labels[n - 1] ?? "")
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="reference vs current distribution of ${esc(c.column)}">` +
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>${bars}` +
    `<text x="${pad}" y="${H - 6}" font-size="10" fill="#555">${first}</text>` +
    `<text x="${W - pad}" y="${H - 6}" font-size="10" fill="#555" text-anchor="end">${last}</text>` +
    `<text x="${pad}" y="12" font-size="10" fill="#555">max share ${(max * 100).toFixed(1)}%</text></svg>`
  )
}

/** A drift report readable in any browser, without another tool: summary, then features by severity. */
export const renderDriftHtml = (r: DriftReport): string => {
  const cols = [...r.result.columns].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(b.severity) - SEVERITY_ORDER.indexOf(a.severity) ||
      Number(b.drifted) - Number(a.drifted) ||
      (a.pValue ?? 1) - (b.pValue ?? 1) ||
      (b.statistic ?? 0) - (a.statistic ?? 0) ||
      a.column.localeCompare(b.column)
  )
  const badge = (s: string) => `<span class="sev" style="background:${SEV_COLOR[s] ?? "#555"}">${esc(s)}</span>`
  const rows = cols
    .map(
      (c) => `<tr class="${c.drifted ? "drifted" : ""}">
  <td><a href="#f-${esc(c.column)}">${esc(c.column)}</a></td><td>${esc(c.kind)}</td><td>${esc(c.test)}</td>
  <td>${fmt(c.statistic)}</td><td>${fmt(c.pValue)}</td><td>${fmt(c.adjustedPValue)}</td><td>${fmt(c.threshold, 3)}</td>
  <td>${c.drifted ? "drift" : "no drift"}</td><td>${badge(c.severity)}</td></tr>`
    )
    .join("\n")
  const details = cols
    .map(
      (c) => `<section id="f-${esc(c.column)}" class="feature">
  <h3>${esc(c.column)} ${badge(c.severity)}</h3>
  <p>${esc(c.test)} statistic ${fmt(c.statistic)}${c.pValue !== null ? `, p-value ${fmt(c.pValue)} (BH-adjusted ${fmt(c.adjustedPValue)})` : ""}, threshold ${fmt(c.threshold, 3)} →
  <strong>${c.drifted ? "drifted" : "not drifted"}</strong>. Reference ${c.referenceRows} values, current ${c.currentRows} (${c.currentNulls} empty).</p>
  ${chart(c)}
  ${c.warnings.length ? `<ul class="warn">${c.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
</section>`
    )
    .join("\n")
  const d = r.decision
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: ${esc(r.model)} v${r.version} — ${esc(r.created_at)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
tr.drifted{background:#fff4e5}.sev{color:#fff;border-radius:3px;padding:0 .4rem;font-size:.8rem}
.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.5rem;margin:1rem 0}
.summary div{background:#f5f5f5;padding:.6rem;border-radius:4px}.feature{border-top:1px solid #eee;margin-top:1rem}
.legend span{display:inline-block;width:12px;height:12px;margin:0 .3rem 0 1rem;vertical-align:middle}.warn{color:#8a6d3b}
</style></head><body>
<h1>Drift report: ${esc(r.model)} version ${r.version} ${badge(r.severity)}</h1>
<p>${esc(r.created_at)} · batch ${esc(r.batch.path ?? r.batch.source)} (${r.batch.rows} rows${r.batch.sha256 ? `, sha256 ${esc(r.batch.sha256.slice(0, 12))}…` : ""}) ·
reference: training data of run ${esc(r.run_id)} (${r.reference.rows} rows, dataset ${esc(r.reference.dataset_version.slice(0, 12))}…)</p>
<div class="summary">
<div><b>Dataset drift</b><br>${r.dataset_drift ? "yes" : "no"} (share ${fmt(r.share_of_drifted_columns, 2)} vs drift_share ${r.thresholds.drift_share})</div>
<div><b>Drifted columns</b><br>${r.result.numberOfDriftedColumns} of ${r.result.numberOfColumns}</div>
<div><b>With Benjamini–Hochberg</b><br>${r.result.benjaminiHochberg.numberOfDriftedColumns} drifted, dataset drift ${r.result.benjaminiHochberg.datasetDrift ? "yes" : "no"}</div>
<div><b>Severity</b><br>${badge(r.severity)} (alert at ${esc(r.thresholds.alert_severity)}, CI gate at ${esc(r.thresholds.fail_on_severity)})</div>
</div>
${r.result.warnings.length ? `<ul class="warn">${r.result.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
${d ? `<p><b>Decision:</b> ${esc(d.action)} — “${esc(d.reason)}” (${esc(d.by)}, ${esc(d.at)})</p>` : `<p><b>Decision:</b> none recorded.</p>`}
<h2>Features by severity</h2>
<table><thead><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th><th>p-value</th><th>BH p</th><th>threshold</th><th>verdict</th><th>severity</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Distributions</h2>
<p class="legend">Share of values per bin or category:<span style="background:${COLORS.reference}"></span>reference (training)<span style="background:${COLORS.current}"></span>current batch</p>
${details}
</body></html>
`
}
