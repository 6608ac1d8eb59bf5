import type { Effect } from "effect"
import type { monitorAny } from "../../programs/drift/monitorAny.js"
import type { prepareImageBatch } from "../../programs/drift/imageDrift.js"
import type { stageTraining } from "../../programs/drift/staging.js"
import type { driftSummary } from "../../programs/drift/summary.js"

type Monitored = Effect.Effect.Success<ReturnType<typeof monitorAny>>
export type ImageDriftReport = Extract<Monitored, { kind: "image" }>["report"]
export type TabularDriftReport = Extract<Monitored, { kind: "tabular" }>["report"]
export type DriftSummary = Effect.Effect.Success<ReturnType<typeof driftSummary>>
export type StagedTraining = Effect.Effect.Success<ReturnType<typeof stageTraining>>
export type PreparedBatch = Effect.Effect.Success<ReturnType<typeof prepareImageBatch>>

export const imageDriftText = (report: ImageDriftReport): string =>
  [
    `image drift check of ${report.model} version ${report.version}: severity ${report.severity}`,
    `  pixel Wasserstein per channel: ${report.pixel_wasserstein.per_channel.map((v) => v.toFixed(4)).join(", ")} (${report.pixel_wasserstein.severity})`,
    `  embedding MMD² ${report.embedding_mmd.mmd2.toExponential(3)}, permutation p-value ${report.embedding_mmd.pValue.toFixed(4)} (${report.embedding_mmd.severity})`,
    `  multi-scale: ratio ${report.multiscale.ratio.toFixed(2)}${report.drifted ? ` → reads as ${report.multiscale.reading} drift` : " (no drift to localise)"}`,
    ...(report.isp_scenarios
      ? [
          `  ISP scenarios: ${report.isp_scenarios.sentence}`,
          ...(report.isp_scenarios.closest
            ? ["  response: adjust ISP (the config's isp: section), retrain, fine-tune or accept"]
            : [])
        ]
      : []),
    `report: ${report.files.html}`
  ].join("\n")

export const tabularDriftText = (report: TabularDriftReport): string =>
  [
    `drift check of ${report.model} version ${report.version}: severity ${report.severity}, ${report.result.numberOfDriftedColumns}/${report.result.numberOfColumns} columns drifted (share ${report.share_of_drifted_columns.toFixed(2)}; dataset drift ${report.dataset_drift ? "yes" : "no"}; with Benjamini–Hochberg ${report.result.benjaminiHochberg.numberOfDriftedColumns})`,
    ...report.result.columns
      .filter((c) => c.drifted)
      .map(
        (c) =>
          `  ${c.column}: ${c.test} ${c.statistic?.toFixed(4)}${c.pValue !== null ? ` p=${c.pValue.toExponential(2)}` : ""} (${c.severity})`
      ),
    ...report.result.warnings.map((w) => `  warning: ${w}`),
    `report: ${report.files.html}`
  ].join("\n")

export const preparedBatchText = (r: PreparedBatch, configFile: string): string =>
  [
    `prepared ${r.images} images into ${r.batch}`,
    `next: driftgate drift monitor --config ${configFile} --batch ${r.batch}`
  ].join("\n")

export const driftSummaryText = (s: DriftSummary): string =>
  s.checks.length === 0
    ? `no drift checks recorded for ${s.model}`
    : [
        `drift history of ${s.model} (${s.checks.length} check(s)); share of drifted columns: ${s.trend}`,
        "time                      version  rows    share  severity  decision          batch",
        ...s.checks.map(
          (c) =>
            `${c.at}  ${String(c.version).padStart(7)}  ${String(c.rows).padStart(6)}  ${c.share.toFixed(2).padStart(5)}  ${c.severity.padEnd(8)}  ${(c.decision?.action ?? "—").padEnd(16)}  ${c.batch}`
        )
      ].join("\n")

export const stagedTrainingText = (s: StagedTraining, configFile: string, imagePipeline: boolean): string =>
  [
    `staged drift training ${s.id} for ${s.dataset}: ${s.batch.train_rows} rows join the training data (new dataset version ${s.merged_version.slice(0, 12)}…), ${s.batch.holdout_rows} held out`,
    `baseline: ${s.baseline.model} version ${s.baseline.version} on the held-out rows: ${Object.entries(
      s.baseline.metrics
    )
      .filter(([k]) => (!k.includes("_macro") && !k.includes("_weighted")) || k === "f1_weighted")
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join(", ")}`,
    `next: driftgate run --config ${configFile}${imagePipeline ? " --fine-tune" : ""}`
  ].join("\n")

export const unstagedTrainingText = (s: { readonly id: string; readonly dataset: string }): string =>
  `unstaged drift training ${s.id}; the next run of ${s.dataset} uses the original data again`
