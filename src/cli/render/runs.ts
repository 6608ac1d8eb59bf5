import type { RunDetail, RunRecord } from "../../services/Tracker.js"

/** `driftgate runs list`: one line per run, newest first. */
export const runsListText = (runs: ReadonlyArray<RunRecord>): string =>
  runs.length === 0
    ? "no runs recorded yet"
    : [
        "run_id                                experiment            status       started_at                dataset_version",
        ...runs.map(
          (r) =>
            `${r.runId}  ${r.experiment.padEnd(20)}  ${r.status.padEnd(11)}  ${r.startedAt}  ${(r.anchors.dataset_version ?? "—").slice(0, 12)}`
        )
      ].join("\n")

/** `driftgate runs show ID`: anchors, params, metrics, tags and artifacts of one run. */
export const runShowText = (d: RunDetail): string =>
  [
    `run ${d.run.runId} (${d.run.experiment}) ${d.run.status}`,
    `  started ${d.run.startedAt}${d.run.endedAt ? `, ended ${d.run.endedAt}` : ""}`,
    ...(d.run.error ? [`  error: ${d.run.error}`] : []),
    "anchors:",
    ...Object.entries(d.run.anchors).map(([k, v]) => `  ${k}: ${v}`),
    "params:",
    ...Object.entries(d.params).map(([k, v]) => `  ${k}: ${v}`),
    "metrics:",
    ...d.metrics.map((m) => `  ${m.key}${m.step ? `@${m.step}` : ""}: ${m.value}`),
    "tags:",
    ...Object.entries(d.tags).map(([k, v]) => `  ${k}: ${v}`),
    "artifacts:",
    ...d.artifacts.map((a) => `  ${a.name}: ${a.path}`)
  ].join("\n")
