import { escapeHtml } from "../serve/page.js"

/** Everything that comes from data goes through this before it reaches a page. */
export const esc = (v: unknown): string => escapeHtml(v === null || v === undefined ? "" : String(v))

/** A query string from pairs, each part percent-encoded (undefined and "" are left out). */
export const query = (pairs: ReadonlyArray<readonly [string, string | number | undefined]>): string => {
  const parts = pairs
    .filter((p): p is readonly [string, string | number] => p[1] !== undefined && p[1] !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length > 0 ? `?${parts.join("&")}` : ""
}

/** A path segment from data (model names, run ids), percent-encoded. */
export const seg = (s: string): string => encodeURIComponent(s)

export const fmtNumber = (v: number | undefined | null): string => {
  if (v === undefined || v === null || !Number.isFinite(v)) return "—"
  if (Number.isInteger(v)) return String(v)
  const a = Math.abs(v)
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4)
}

export const fmtDuration = (ms: number | null): string => {
  if (ms === null || !Number.isFinite(ms)) return "—"
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 120) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  return m < 120 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** ISO time shown as "2026-12-01 20:04:04 UTC", the ISO string kept in a <time> element. */
export const fmtTime = (iso: string | null | undefined): string =>
  iso === null || iso === undefined || iso === ""
    ? "—"
    : `<time datetime="${esc(iso)}">${esc(iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"))}</time>`

export const statusBadge = (status: string): string =>
  `<span class="badge badge-${esc(status.toLowerCase().replace(/[^a-z]/g, ""))}">${esc(status)}</span>`

/** A table that scrolls sideways inside its own box on a narrow window (keyboard-scrollable: a focusable region). */
export const table = (label: string, head: ReadonlyArray<string>, rows: ReadonlyArray<string>, cls = ""): string =>
  `<div class="scroll" role="region" aria-label="${esc(label)}" tabindex="0"><table${cls ? ` class="${cls}"` : ""}>
<thead><tr>${head.join("")}</tr></thead>
<tbody>${rows.length > 0 ? rows.join("\n") : `<tr><td colspan="${head.length}" class="empty">nothing yet</td></tr>`}</tbody>
</table></div>`

export type Section = "runs" | "models" | "drift"

/** The page shell: skip link, navigation, one <main>; the stylesheet is served by the dashboard itself. */
export const layout = (options: {
  readonly title: string
  readonly section: Section
  readonly body: string
  readonly prefix: string
}): string => {
  const p = options.prefix
  const nav = (s: Section, label: string, href: string) =>
    `<a href="${p}${href}"${options.section === s ? ' aria-current="page"' : ""}>${label}</a>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)} · driftgate</title>
<link rel="stylesheet" href="${p}/assets/ui.css">
<link rel="icon" href="data:,">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">driftgate</span><nav aria-label="Sections">${nav("runs", "Runs", "/runs")}${nav("models", "Models", "/models")}${nav("drift", "Drift", "/drift")}</nav></header>
<main id="main" tabindex="-1">
${options.body}
</main>
<footer>Read-only dashboard · every value on this page comes from the workspace's tracker, registry and reports</footer>
</body></html>`
}

export const CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --soft: #f6f8fa; --accent: #0b57d0;
  --good: #1a7f37; --bad: #cf222e; --warn: #9a6700; --focus: #ff8c00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
[tabindex]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -9999px; top: 0; background: var(--fg); color: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1.25rem; background: #24292f; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; }
header nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
header nav a { color: #fff; text-decoration: none; padding: .2rem .1rem; border-bottom: 2px solid transparent; }
header nav a[aria-current="page"] { border-bottom-color: #fff; font-weight: 600; }
main { padding: 1rem 1.25rem 2rem; max-width: 1400px; }
main:focus { outline: none; }
footer { padding: 1rem 1.25rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
h1 { font-size: 1.45rem; margin: .25rem 0 .75rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
p, li { overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
td.wrap { white-space: normal; min-width: 16rem; overflow-wrap: anywhere; }
thead th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
tbody tr:hover { background: #f3f6fb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; }
tr.diff td, td.diff { background: #fff4d6; }
tr.diff td:first-child { box-shadow: inset 4px 0 0 var(--warn); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; }
.badge-completed, .badge-production, .badge-ok, .badge-approved, .badge-none- { color: var(--good); }
.badge-failed, .badge-interrupted, .badge-high, .badge-broken, .badge-rejected { color: var(--bad); }
.badge-blocked, .badge-cancelled, .badge-medium, .badge-staging, .badge-running { color: var(--warn); }
.badge-archived, .badge-none, .badge-low { color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .15rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--fg); }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.pager { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: .75rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .75rem; margin: .5rem 0 1rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem; background: var(--soft); min-width: 0; }
.card h3 { margin: 0 0 .25rem; font-size: .85rem; color: var(--muted); font-weight: 600; }
.card .big { font-size: 1.15rem; font-weight: 600; overflow-wrap: anywhere; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { display: grid; grid-template-columns: minmax(8rem, 12rem) 1fr minmax(5rem, max-content); gap: .75rem; align-items: center; padding: .2rem 0; }
.bar { height: .9rem; background: var(--accent); border-radius: 3px; min-width: 2px; }
.bar.failed { background: var(--bad); } .bar.skipped, .bar.blocked, .bar.cancelled { background: var(--warn); }
ol.audit { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
ol.audit li { margin: 0 0 .8rem; padding-left: 1rem; position: relative; }
ol.audit li::before { content: ""; position: absolute; left: -.5rem; top: .45rem; width: .7rem; height: .7rem; border-radius: 50%; background: var(--accent); }
ol.audit li.rejected::before, ol.audit li.cancelled::before, ol.audit li.rollback::before { background: var(--bad); }
.chart { overflow-x: auto; max-width: 100%; }
.chart svg { max-width: none; height: auto; }
.callout { border-left: 4px solid var(--accent); background: var(--soft); padding: .5rem .9rem; margin: .5rem 0 1rem; }
.callout.bad { border-color: var(--bad); } .callout.good { border-color: var(--good); }
iframe.report { width: 100%; height: 70vh; border: 1px solid var(--line); border-radius: 6px; }
@media (max-width: 640px) {
  main { padding: .75rem; }
  .timeline li { grid-template-columns: 1fr; gap: .1rem; }
  dl.kv { grid-template-columns: 1fr; }
  dl.kv dt { margin-top: .4rem; }
}
`
