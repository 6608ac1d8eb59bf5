import type { Effect } from "effect"
import { describeError } from "../../domain/describe.js"
import type { runPipeline } from "../../programs/runPipeline.js"

/** What runPipeline returns (named through the program, so a move of its types does not reach here). */
export type RunOutcome = Effect.Effect.Success<ReturnType<typeof runPipeline>>

/** The machine-readable result of `driftgate run` (stdout under --json). */
export const runSummary = (result: RunOutcome, workspace: string) => {
  const p = result.prepared
  return {
    run_id: result.runId,
    execution_id: result.executionId,
    status: result.status,
    workspace,
    dataset: p
      ? {
          name: p.dataset,
          version: p.version,
          rows: p.rows,
          snapshot_created: p.snapshotCreated,
          dataset_yaml_created: p.specCreated,
          validation: p.validation.verdict,
          split_id: p.splitId,
          splits: { train: p.splits.train.rows, val: p.splits.val.rows, test: p.splits.test.rows },
          label_distribution: p.splits.train.labels
            ? { train: p.splits.train.labels, val: p.splits.val.labels, test: p.splits.test.labels }
            : undefined
        }
      : null,
    stages: result.report.stages.map((s) => ({
      name: s.name,
      status: s.status,
      duration_s: s.duration_s,
      error: s.error,
      result: s.result
    })),
    reports: `${workspace}/reports/${result.runId}/`,
    error: result.error ? describeError(result.error) : null
  }
}

/** The human text of `driftgate run`: outcome, dataset and split, one line per stage, where the reports are. */
export const runText = (result: RunOutcome, workspace: string): string => {
  const p = result.prepared
  return [
    `run ${result.runId} ${result.status}`,
    ...(p
      ? [
          `dataset ${p.dataset} version ${p.version}`,
          `  ${p.rows} rows, validation ${p.validation.verdict}; split ${p.splitId}: train ${p.splits.train.rows}, val ${p.splits.val.rows}, test ${p.splits.test.rows}`
        ]
      : []),
    ...result.report.stages.map(
      (s) => `  ${s.name.padEnd(17)} ${s.status}${s.duration_s !== null ? ` (${s.duration_s.toFixed(2)} s)` : ""}`
    ),
    `reports in ${workspace}/reports/${result.runId}/`
  ].join("\n")
}
