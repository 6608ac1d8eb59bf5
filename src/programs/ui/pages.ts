import type { AuditRecord, ChainVerdict, ModelVersion } from "../../domain/registry.js"
import type { RunRecord, RunSort } from "../../services/Tracker.js"
import type { DriftHistoryLine } from "../drift/report.js"
import { esc, fmtDuration, fmtNumber, fmtTime, layout, query, seg, statusBadge, table } from "./html.js"
import {
  type CompareView,
  type ConfusionMatrix,
  type DriftView,
  type ModelRow,
  type ModelView,
  PAGE_SIZES,
  type RunsParams,
  type RunsView,
  type RunView,
  type ServedNow
} from "./views.js"

/** Pure renderers: a view (views.ts) in, one HTML page out. Every value from data goes through esc(). */

const durationOf = (r: RunRecord) => (r.endedAt === null ? null : Date.parse(r.endedAt) - Date.parse(r.startedAt))

const shortHash = (h: string | undefined) =>
  h === undefined ? "—" : `<code title="${esc(h)}">${esc(h.slice(0, 12))}</code>`

const runsQuery = (p: RunsParams, change: Partial<RunsParams>) => {
  const q = { ...p, ...change }
  return query([
    ["experiment", q.experiment],
    ["status", q.status],
    ["dataset", q.dataset],
    ["sort", q.sort === "started_at" ? undefined : q.sort],
    ["dir", q.descending ? undefined : "asc"],
    ["per", q.per === 50 ? undefined : q.per],
    ["page", q.page === 1 ? undefined : q.page]
  ])
}

const sortHeader = (prefix: string, p: RunsParams, sort: RunSort, label: string) => {
  const active = p.sort === sort
  const descending = active ? !p.descending : true
  const arrow = active ? (p.descending ? " ▼" : " ▲") : ""
  const aria = active ? ` aria-sort="${p.descending ? "descending" : "ascending"}"` : ""
  return `<th scope="col"${aria}><a href="${prefix}/runs${esc(runsQuery(p, { sort, descending, page: 1 }))}">${label}${arrow}</a></th>`
}

const options = (values: ReadonlyArray<string>, selected: string | undefined, all: string) =>
  `<option value="">${esc(all)}</option>${values.map((v) => `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(v)}</option>`).join("")}`

export const runsPage = (prefix: string, v: RunsView): string => {
  const p = v.params
  const pages = Math.max(1, Math.ceil(v.page.total / p.per))
  const from = v.page.total === 0 ? 0 : (p.page - 1) * p.per + 1
  const to = Math.min(v.page.total, p.page * p.per)
  const filters = `<form class="filters" method="get" action="${prefix}/runs" aria-label="Filter runs">
<label for="f-experiment">Pipeline<select id="f-experiment" name="experiment">${options(v.page.experiments, p.experiment, "all pipelines")}</select></label>
<label for="f-status">Status<select id="f-status" name="status">${options(v.statuses, p.status, "any status")}</select></label>
<label for="f-dataset">Dataset (name or version prefix)<input id="f-dataset" name="dataset" list="datasets" value="${esc(p.dataset)}" size="18"></label>
<datalist id="datasets">${v.page.datasets.map((d) => `<option value="${esc(d)}">`).join("")}</datalist>
<label for="f-per">Per page<select id="f-per" name="per">${PAGE_SIZES.map((n) => `<option${n === p.per ? " selected" : ""}>${n}</option>`).join("")}</select></label>
<input type="hidden" name="sort" value="${esc(p.sort)}"><input type="hidden" name="dir" value="${p.descending ? "desc" : "asc"}">
<button type="submit">Apply</button> <a href="${prefix}/runs">Clear</a>
</form>`
  const head = [
    `<th scope="col"><span class="sr">Select</span></th>`,
    `<th scope="col">Run</th>`,
    sortHeader(prefix, p, "status", "Status"),
    sortHeader(prefix, p, "experiment", "Pipeline"),
    `<th scope="col">Dataset</th>`,
    `<th scope="col">Model kind</th>`,
    ...v.metricColumns.map((k) => `<th scope="col" class="num">${esc(k)}</th>`),
    sortHeader(prefix, p, "started_at", "Started"),
    sortHeader(prefix, p, "duration", "Duration")
  ]
  const rows = v.page.runs.map((s) => {
    const r = s.run
    const version = s.tags["dataset_version"] ?? r.anchors["dataset_version"]
    return `<tr>
<td><input type="checkbox" name="run" value="${esc(r.runId)}" form="compare" id="c-${esc(r.runId)}" aria-label="compare run ${esc(r.runId)}"></td>
<td><a href="${prefix}/runs/${seg(r.runId)}">${esc(r.runId.slice(0, 8))}…</a></td>
<td>${statusBadge(r.status)}</td>
<td>${esc(r.experiment)}</td>
<td>${esc(s.tags["dataset"] ?? "—")} ${version === undefined ? "" : shortHash(version)}</td>
<td>${esc(s.tags["model_kind"] ?? "—")}</td>
${v.metricColumns.map((k) => `<td class="num">${fmtNumber(s.metrics[k])}</td>`).join("")}
<td>${fmtTime(r.startedAt)}</td>
<td class="num">${fmtDuration(durationOf(r))}</td>
</tr>`
  })
  const pager = `<nav class="pager" aria-label="Pages">
${p.page > 1 ? `<a href="${prefix}/runs${esc(runsQuery(p, { page: p.page - 1 }))}" rel="prev">← Newer page</a>` : ""}
<span>Runs ${from}–${to} of ${v.page.total} · page ${p.page} of ${pages}</span>
${p.page < pages ? `<a href="${prefix}/runs${esc(runsQuery(p, { page: p.page + 1 }))}" rel="next">Next page →</a>` : ""}
</nav>`
  return layout({
    title: "Runs",
    section: "runs",
    prefix,
    body: `<h1>Runs</h1>
${filters}
<form id="compare" method="get" action="${prefix}/compare"></form>
${table("Runs", head, rows, "runs")}
${pager}
<p><button type="submit" form="compare">Compare selected runs</button> <span class="muted">tick two or more runs</span></p>`
  })
}

const kv = (pairs: ReadonlyArray<readonly [string, string]>) =>
  `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`

/** Metric keys "split.metric" → one row per metric, one column per split. */
const metricsBySplit = (metrics: RunView["detail"]["metrics"]) => {
  const splits: string[] = []
  const rows = new Map<string, Map<string, number>>()
  for (const m of metrics) {
    if (m.step !== 0) continue
    const dot = m.key.indexOf(".")
    const split = dot > 0 ? m.key.slice(0, dot) : "—"
    const name = dot > 0 ? m.key.slice(dot + 1) : m.key
    if (!splits.includes(split)) splits.push(split)
    if (!rows.has(name)) rows.set(name, new Map())
    rows.get(name)!.set(split, m.value)
  }
  const order = ["train", "val", "test"]
  splits.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b))
  return { splits, rows }
}

const confusionTable = (cm: ConfusionMatrix) => {
  const max = Math.max(1, ...cm.counts.flat())
  const head = [
    `<th scope="col">actual ↓ / predicted →</th>`,
    ...cm.labels.map((l) => `<th scope="col" class="num">${esc(l)}</th>`)
  ]
  const rows = cm.counts.map(
    (row, i) =>
      `<tr><th scope="row">${esc(cm.labels[i])}</th>${row
        .map(
          (c, j) =>
            `<td class="num" style="background: rgba(11, 87, 208, ${((0.6 * c) / max).toFixed(3)})${c / max > 0.5 ? "; color: #fff" : ""}"${i === j ? ' title="correct"' : ""}>${c}</td>`
        )
        .join("")}</tr>`
  )
  return `<h3>Confusion matrix · ${esc(cm.split)}</h3>${table(`Confusion matrix on ${cm.split}`, head, rows)}`
}

const stageTimeline = (stages: RunView["stages"]) => {
  const max = Math.max(1e-9, ...stages.map((s) => s.durationS ?? 0))
  return `<ol class="timeline">${stages
    .map(
      (s) =>
        `<li><span>${esc(s.name)} ${statusBadge(s.status)}</span><span class="bar ${esc(s.status)}" style="width: ${((100 * (s.durationS ?? 0)) / max).toFixed(1)}%" aria-hidden="true"></span><span class="num">${s.durationS === null ? "—" : `${s.durationS.toFixed(3)} s`}</span>${s.error ? `<span class="wrap muted" style="grid-column: 1 / -1">${esc(s.error)}</span>` : ""}</li>`
    )
    .join("")}</ol>`
}

const promotionSummary = (p: Readonly<Record<string, unknown>>) => {
  const rules = Array.isArray(p["rules"]) ? (p["rules"] as Array<Record<string, unknown>>) : []
  const outcome = String(p["outcome"] ?? "unknown")
  const rows = rules.flatMap((r) =>
    (Array.isArray(r["checks"]) ? (r["checks"] as Array<Record<string, unknown>>) : [r]).map(
      (c) =>
        `<tr><td>${esc(c["id"] ?? r["id"])}</td><td>${statusBadge(c["passed"] === true ? "passed" : "failed")}</td><td class="wrap">${esc(c["message"] ?? "")}</td></tr>`
    )
  )
  return `<div class="callout ${outcome === "approved" ? "good" : "bad"}"><strong>Promotion: ${esc(outcome)}</strong>${p["reason"] ? ` — ${esc(p["reason"])}` : ""}${p["decided_by"] ? ` <span class="muted">(decided by ${esc(p["decided_by"])})</span>` : ""}${p["version"] !== undefined && p["version"] !== null ? ` · registered as version ${esc(p["version"])}` : ""}</div>
${table("Promotion rules", ['<th scope="col">Rule</th>', '<th scope="col">Result</th>', '<th scope="col">Why</th>'], rows)}`
}

export const runPage = (prefix: string, v: RunView): string => {
  const r = v.detail.run
  const fileLink = (key: string) => `${prefix}/runs/${seg(r.runId)}/file${query([["key", key]])}`
  const { splits, rows } = metricsBySplit(v.detail.metrics)
  const metricRows = [...rows.entries()].map(
    ([name, values]) =>
      `<tr><th scope="row">${esc(name)}</th>${splits.map((s) => `<td class="num">${fmtNumber(values.get(s))}</td>`).join("")}</tr>`
  )
  const versions = v.versions.map(
    (mv) => `<a href="${prefix}/models/${seg(mv.name)}">${esc(mv.name)} v${mv.version}</a> ${statusBadge(mv.stage)}`
  )
  const body = `<p class="muted"><a href="${prefix}/runs">← Runs</a></p>
<h1>Run <code>${esc(r.runId)}</code></h1>
<div class="cards">
<div class="card"><h3>Status</h3><div class="big">${statusBadge(r.status)}</div>${r.error ? `<p class="wrap">${esc(r.error)}</p>` : ""}</div>
<div class="card"><h3>Pipeline</h3><div class="big">${esc(r.experiment)}</div><a href="${prefix}/runs${query([["experiment", r.experiment]])}">other runs of this pipeline</a></div>
<div class="card"><h3>Model kind</h3><div class="big">${esc(v.detail.tags["model_kind"] ?? "—")}</div></div>
<div class="card"><h3>Started · duration</h3><div class="big">${fmtTime(r.startedAt)}</div>${fmtDuration(durationOf(r))}</div>
${versions.length ? `<div class="card"><h3>Registered as</h3><div class="big">${versions.join("<br>")}</div></div>` : ""}
</div>
${v.promotion ? `<h2>Promotion decision</h2>${promotionSummary(v.promotion)}` : ""}
<h2>Metrics per split</h2>
${table("Metrics per split", ['<th scope="col">Metric</th>', ...splits.map((s) => `<th scope="col" class="num">${esc(s)}</th>`)], metricRows)}
${v.confusion.length ? `<h2>How the model errs</h2>${v.confusion.map(confusionTable).join("\n")}` : ""}
${
  v.evaluationHtml
    ? `<h2>Evaluation report</h2><p><a href="${fileLink(v.evaluationHtml)}">Open the evaluation report</a> (plots, per-class table)</p>
<iframe class="report" title="Evaluation report" sandbox src="${fileLink(v.evaluationHtml)}"></iframe>`
    : ""
}
<h2>Stage timeline</h2>
${v.stages.length ? stageTimeline(v.stages) : '<p class="muted">No run_report.json for this run.</p>'}
<h2>Lineage anchors</h2>
${kv(Object.entries(r.anchors).map(([k, val]) => [k, esc(val)] as const))}
<h2>Parameters</h2>
${table(
  "Parameters",
  ['<th scope="col">Parameter</th>', '<th scope="col">Value</th>'],
  Object.entries(v.detail.params).map(([k, val]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(val)}</td></tr>`)
)}
<h2>Tags</h2>
${kv(Object.entries(v.detail.tags).map(([k, val]) => [k, esc(val)] as const))}
<h2>Reports and artifacts</h2>
${table(
  "Reports and artifacts",
  ['<th scope="col">File</th>', '<th scope="col">Kind</th>', '<th scope="col">Workspace path</th>'],
  v.files.map(
    (f) =>
      `<tr><td><a href="${fileLink(f.key)}">${esc(f.label)}</a></td><td>${esc(f.kind)}</td><td><code>${esc(f.key)}</code></td></tr>`
  )
)}`
  return layout({ title: `Run ${r.runId}`, section: "runs", prefix, body })
}

export const comparePage = (prefix: string, v: CompareView): string => {
  const head = [
    '<th scope="col">Key</th>',
    ...v.runs.map(
      (r) =>
        `<th scope="col"><a href="${prefix}/runs/${seg(r.run.runId)}">${esc(r.run.runId.slice(0, 8))}…</a><br><span class="muted">${esc(r.run.experiment)}</span></th>`
    )
  ]
  const section = <T>(
    title: string,
    rows: ReadonlyArray<{ key: string; values: ReadonlyArray<T | undefined> }>,
    show: (x: T | undefined) => string,
    numeric: boolean
  ) => {
    const differing = rows.filter(
      (r) => new Set(r.values.map((x) => (x === undefined ? "\u0000" : String(x)))).size > 1
    )
    const body = rows.map((r) => {
      const diff = differing.includes(r)
      return `<tr${diff ? ' class="diff"' : ""}><th scope="row">${esc(r.key)}${diff ? ' <span class="badge badge-medium">differs</span>' : ""}</th>${r.values
        .map((x) => `<td${numeric ? ' class="num"' : ""}>${show(x)}</td>`)
        .join("")}</tr>`
    })
    return `<h2>${title} <span class="muted">(${differing.length} of ${rows.length} differ)</span></h2>${table(title, head, body)}`
  }
  const body = `<p class="muted"><a href="${prefix}/runs">← Runs</a></p>
<h1>Compare ${v.runs.length} runs</h1>
<p>Rows whose values differ between the runs are highlighted and marked <span class="badge badge-medium">differs</span>.</p>
${section("Metrics", v.metrics, (x) => fmtNumber(x), true)}
${section("Parameters", v.params, (x) => (x === undefined ? "—" : esc(x)), false)}
${section("Lineage anchors", v.anchors, (x) => (x === undefined ? "—" : `<code>${esc(x)}</code>`), false)}`
  return layout({ title: "Compare runs", section: "runs", prefix, body })
}

export const compareHelpPage = (prefix: string, message: string): string =>
  layout({
    title: "Compare runs",
    section: "runs",
    prefix,
    body: `<h1>Compare runs</h1><p class="callout bad">${esc(message)}</p><p><a href="${prefix}/runs">Back to the runs</a></p>`
  })

const chainStatus = (verdict: ChainVerdict) =>
  verdict.ok
    ? `<p class="callout good">Audit chain verified: ${verdict.records} record(s), every hash links to the one before it.</p>`
    : `<div class="callout bad"><strong>Audit chain BROKEN</strong> (${verdict.records} records):<ul>${verdict.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></div>`

export const modelsPage = (
  prefix: string,
  v: { readonly models: ReadonlyArray<ModelRow>; readonly verdict: ChainVerdict },
  served: ServedNow
): string => {
  const now = served()
  const rows = v.models.map(
    (m) => `<tr><td><a href="${prefix}/models/${seg(m.name)}">${esc(m.name)}</a></td>
<td>${m.production ? `v${m.production.version}` : "—"}</td>
<td>${now === undefined ? '<span class="muted">not served here</span>' : now.has(m.name) ? `v${now.get(m.name)!.version} (${esc(now.get(m.name)!.stage)})` : "nothing"}</td>
<td class="num">${m.versions}</td>
<td class="wrap">${m.lastChange ? `${fmtTime(m.lastChange.at)} · ${esc(m.lastChange.action)} by ${esc(m.lastChange.actor)}${m.lastChange.reason ? ` — ${esc(m.lastChange.reason)}` : ""}` : "—"}</td></tr>`
  )
  return layout({
    title: "Models",
    section: "models",
    prefix,
    body: `<h1>Registered models</h1>
${chainStatus(v.verdict)}
${table(
  "Registered models",
  [
    '<th scope="col">Model</th>',
    '<th scope="col">Production</th>',
    '<th scope="col">Served now</th>',
    '<th scope="col" class="num">Versions</th>',
    '<th scope="col">Last change</th>'
  ],
  rows
)}`
  })
}

const auditItem = (prefix: string, a: AuditRecord) => {
  const d = a.details
  const run = typeof d["run_id"] === "string" ? d["run_id"] : undefined
  const move =
    a.fromStage !== null || a.toStage !== null ? ` · ${esc(a.fromStage ?? "—")} → ${esc(a.toStage ?? "—")}` : ""
  const extra = [
    typeof d["alias"] === "string" ? `alias <code>${esc(d["alias"])}</code>` : "",
    typeof d["verdict"] === "string" ? `verdict ${esc(d["verdict"])}` : "",
    typeof d["policy"] === "string" ? `policy: ${esc(d["policy"])}` : "",
    run ? `run <a href="${prefix}/runs/${seg(run)}">${esc(run.slice(0, 8))}…</a>` : ""
  ].filter((x) => x !== "")
  return `<li class="${esc(a.action)}"><strong>${esc(a.action.replace(/_/g, " "))}</strong>${a.version !== null ? ` v${a.version}` : ""}${move}
<br><span class="muted">${fmtTime(a.at)} · by</span> ${esc(a.actor)} <span class="muted">· #${a.seq}</span>
${a.reason ? `<br>Why: <q class="reason">${esc(a.reason)}</q>` : ""}${extra.length ? `<br><span class="muted">${extra.join(" · ")}</span>` : ""}</li>`
}

export const modelPage = (prefix: string, v: ModelView, served: ServedNow): string => {
  const now = served()
  const servedNow = now?.get(v.name)
  const production = v.versions.find((x) => x.stage === "Production")
  const why = production
    ? v.audit.find((a) => a.version === production.version && a.toStage === "Production")
    : undefined
  const rows = v.versions.map(
    (
      mv: ModelVersion
    ) => `<tr${mv.stage === "Production" ? ' class="diff"' : ""}><td>v${mv.version}</td><td>${statusBadge(mv.stage)}</td>
<td>${mv.aliases.map((a) => `<code>${esc(a)}</code>`).join(" ") || "—"}</td>
<td><a href="${prefix}/runs/${seg(mv.runId)}">${esc(mv.runId.slice(0, 8))}…</a></td>
<td>${shortHash(mv.tags["dataset_version"])}</td>
<td>${fmtTime(mv.createdAt)}</td><td>${fmtTime(mv.updatedAt)}</td></tr>`
  )
  const body = `<p class="muted"><a href="${prefix}/models">← Models</a></p>
<h1>Model ${esc(v.name)}</h1>
<div class="cards">
<div class="card"><h3>In Production</h3><div class="big">${production ? `version ${production.version}` : "none"}</div>${why ? `${esc(why.action)} by ${esc(why.actor)}, ${fmtTime(why.at)}${why.reason ? `<br>“${esc(why.reason)}”` : ""}` : ""}</div>
<div class="card"><h3>Served now</h3><div class="big">${now === undefined ? "not served by this process" : servedNow ? `version ${servedNow.version} (${esc(servedNow.stage)})` : "nothing loaded"}</div>${now === undefined ? '<span class="muted">driftgate serve loads the Production version</span>' : ""}</div>
<div class="card"><h3>Audit chain</h3><div class="big">${v.verdict.ok ? statusBadge("ok") : statusBadge("broken")}</div>${v.verdict.records} record(s) in the store</div>
${v.hasDrift ? `<div class="card"><h3>Drift</h3><div class="big"><a href="${prefix}/drift/${seg(v.name)}">drift history</a></div></div>` : ""}
</div>
${v.pendingRollbacks > 0 ? `<p class="callout bad">${v.pendingRollbacks} interrupted rollback(s) pending: finish with <code>driftgate rollback --resume</code>.</p>` : ""}
${v.verdict.ok ? "" : chainStatus(v.verdict)}
<h2>Versions</h2>
${table(
  "Versions",
  [
    '<th scope="col">Version</th>',
    '<th scope="col">Stage</th>',
    '<th scope="col">Aliases</th>',
    '<th scope="col">Run</th>',
    '<th scope="col">Dataset version</th>',
    '<th scope="col">Created</th>',
    '<th scope="col">Updated</th>'
  ],
  rows
)}
<h2>Audit timeline <span class="muted">(newest first: promotions, rejections, cancellations, rollbacks — who, when, why)</span></h2>
<ol class="audit">${v.audit.map((a) => auditItem(prefix, a)).join("\n")}</ol>`
  return layout({ title: `Model ${v.name}`, section: "models", prefix, body })
}

export const driftIndexPage = (
  prefix: string,
  models: ReadonlyArray<{ name: string; checks: number; last: DriftHistoryLine | undefined }>
): string =>
  layout({
    title: "Drift",
    section: "drift",
    prefix,
    body: `<h1>Drift monitoring</h1>
${table(
  "Models with drift checks",
  [
    '<th scope="col">Model</th>',
    '<th scope="col" class="num">Checks</th>',
    '<th scope="col">Last check</th>',
    '<th scope="col">Last severity</th>',
    '<th scope="col" class="num">Drifted share</th>'
  ],
  models.map(
    (m) =>
      `<tr><td><a href="${prefix}/drift/${seg(m.name)}">${esc(m.name)}</a></td><td class="num">${m.checks}</td><td>${fmtTime(m.last?.at)}</td><td>${m.last ? statusBadge(m.last.severity) : "—"}</td><td class="num">${fmtNumber(m.last?.share)}</td></tr>`
  )
)}
<p class="muted">A model appears here after its first <code>driftgate drift monitor</code>.</p>`
  })

/** The Vega-Lite spec of a model's drift history: drifted share over time, the threshold as a rule, each point a link. */
export const driftChartSpec = (prefix: string, v: DriftView): Record<string, unknown> => {
  const values = v.points.map((p) => ({
    at: p.at,
    share: p.share,
    severity: p.severity,
    version: `v${p.version}`,
    label: `${p.at} · share ${p.share.toFixed(2)} · ${p.severity}`,
    href: p.reportKey ? `${prefix}/drift/${seg(v.model)}/report${query([["key", p.reportKey]])}` : undefined
  }))
  const threshold = v.shareThreshold
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 640,
    height: 240,
    background: "#ffffff",
    title: { text: "Share of drifted columns per check", anchor: "start" },
    data: { values },
    layer: [
      {
        mark: { type: "line", color: "#57606a" },
        encoding: {
          x: {
            field: "at",
            type: "temporal",
            title: "checked at (UTC)",
            axis: { format: "%m-%d %H:%M:%S", labelAngle: -30 }
          },
          y: { field: "share", type: "quantitative", title: "drifted share", scale: { domain: [0, 1] } }
        }
      },
      {
        mark: { type: "point", filled: true, size: 110, cursor: "pointer" },
        encoding: {
          x: { field: "at", type: "temporal" },
          y: { field: "share", type: "quantitative" },
          color: {
            field: "severity",
            type: "nominal",
            scale: { domain: ["none", "low", "medium", "high"], range: ["#1a7f37", "#57606a", "#9a6700", "#cf222e"] },
            title: "severity"
          },
          href: { field: "href" },
          tooltip: { field: "label" }
        }
      },
      ...(threshold === undefined
        ? []
        : [
            {
              data: { values: [{ threshold }] },
              mark: { type: "rule", color: "#cf222e", strokeDash: [6, 4] },
              encoding: { y: { field: "threshold", type: "quantitative" } }
            },
            {
              data: { values: [{ threshold, text: `dataset drift at share ≥ ${threshold}` }] },
              mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#cf222e" },
              encoding: { y: { field: "threshold", type: "quantitative" }, x: { value: 0 }, text: { field: "text" } }
            }
          ])
    ]
  }
}

export const driftPage = (prefix: string, v: DriftView, chartSvg: string): string => {
  const reportLink = (key: string | undefined, text: string) =>
    key === undefined
      ? `<span class="muted">report not found</span>`
      : `<a href="${prefix}/drift/${seg(v.model)}/report${query([["key", key]])}">${text}</a>`
  const decisions = v.points.filter((p) => p.decision !== null)
  const rows = [...v.points].reverse().map(
    (p) => `<tr><td>${fmtTime(p.at)}</td><td>v${p.version}</td><td>${statusBadge(p.severity)}</td>
<td class="num">${fmtNumber(p.share)}</td><td class="num">${p.drifted_columns}/${p.columns}</td><td>${p.dataset_drift ? "yes" : "no"}</td>
<td class="num">${p.rows}</td><td class="wrap"><code>${esc(p.batch)}</code></td>
<td class="wrap">${p.decision ? `${esc(p.decision.action)} — ${esc(p.decision.reason)} <span class="muted">(${esc(p.decision.by)})</span>` : "—"}</td>
<td>${reportLink(p.reportKey, "report")}</td></tr>`
  )
  const first = v.points.find((p) => p.dataset_drift)
  const body = `<p class="muted"><a href="${prefix}/drift">← Drift</a> · <a href="${prefix}/models/${seg(v.model)}">model ${esc(v.model)}</a></p>
<h1>Drift history of ${esc(v.model)}</h1>
<div class="cards">
<div class="card"><h3>Checks</h3><div class="big">${v.points.length}</div></div>
<div class="card"><h3>Drift first detected</h3><div class="big">${first ? fmtTime(first.at) : "never"}</div>${first ? `${reportLink(first.reportKey, "that report")}` : ""}</div>
<div class="card"><h3>Threshold</h3><div class="big">${v.shareThreshold === undefined ? "—" : `share ≥ ${fmtNumber(v.shareThreshold)}`}</div>from the latest report</div>
<div class="card"><h3>Production now</h3><div class="big">${v.production ? `version ${v.production.version}` : "none"}</div></div>
</div>
<figure class="chart" aria-label="Drifted share over time; each point links to its report">${chartSvg}</figure>
${
  v.latestColumns.length > 0
    ? `<h2>Columns drifted in the latest check</h2>${table(
        "Columns drifted in the latest check",
        [
          '<th scope="col">Column</th>',
          '<th scope="col">Test</th>',
          '<th scope="col" class="num">Statistic</th>',
          '<th scope="col" class="num">p-value</th>',
          '<th scope="col">Severity</th>'
        ],
        v.latestColumns.map(
          (c) =>
            `<tr><td class="column">${esc(c.column)}</td><td>${esc(c.test)}</td><td class="num">${fmtNumber(c.statistic)}</td><td class="num">${fmtNumber(c.pValue)}</td><td>${statusBadge(c.severity)}</td></tr>`
        )
      )}`
    : ""
}
<h2>Decisions taken</h2>
${
  decisions.length === 0
    ? '<p class="muted">No decision recorded yet (an operator records one when <code>drift monitor</code> asks on a terminal).</p>'
    : `<ul>${decisions.map((p) => `<li>${fmtTime(p.decision!.at)}: <strong>${esc(p.decision!.action)}</strong> by ${esc(p.decision!.by)} — ${esc(p.decision!.reason)} (check of ${fmtTime(p.at)})</li>`).join("")}</ul>`
}
<h2>Every check</h2>
${table(
  "Drift checks",
  [
    '<th scope="col">Checked</th>',
    '<th scope="col">Version</th>',
    '<th scope="col">Severity</th>',
    '<th scope="col" class="num">Drifted share</th>',
    '<th scope="col" class="num">Columns</th>',
    '<th scope="col">Dataset drift</th>',
    '<th scope="col" class="num">Rows</th>',
    '<th scope="col">Batch</th>',
    '<th scope="col">Decision</th>',
    '<th scope="col">Report</th>'
  ],
  rows
)}`
  return layout({ title: `Drift of ${v.model}`, section: "drift", prefix, body })
}

export const errorPage = (prefix: string, status: number, message: string): string =>
  layout({
    title: status === 404 ? "Not found" : "Error",
    section: "runs",
    prefix,
    body: `<h1>${status === 404 ? "Not found" : "Something went wrong"}</h1><p class="callout bad">${esc(message)}</p><p><a href="${prefix}/runs">Back to the runs</a></p>`
  })

export const loginPage = (prefix: string, message: string | undefined): string =>
  layout({
    title: "Sign in",
    section: "runs",
    prefix,
    body: `<h1>This dashboard needs the admin token</h1>
${message ? `<p class="callout bad">${esc(message)}</p>` : ""}
<form method="post" action="${prefix}/login" class="filters">
<label for="token">Admin token<input id="token" name="token" type="password" autocomplete="current-password" required></label>
<button type="submit">Open the dashboard</button>
</form>`
  })
