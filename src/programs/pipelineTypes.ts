import type { FileSystem } from "@effect/platform"
import type { Effect } from "effect"
import { Schema } from "effect"
import type { MetricComparison, OverallVerdict, SplitMetrics } from "../domain/comparison.js"
import type { PipelineConfig } from "../domain/config.js"
import { DatasetSpecSchema } from "../domain/dataset.js"
import type { DriftgateError } from "../domain/describe.js"
import { FeatureMapSchema, type ImageTransform, ImageTransformSchema } from "../domain/featureMap.js"
import type { ColumnTransformerState } from "../ml/preprocess.js"
import type { Approver } from "../services/Approver.js"
import type { DriftDetector } from "../services/DriftDetector.js"
import type { ImageCodec } from "../services/ImageCodec.js"
import type { Prompt } from "../services/Prompt.js"
import type { Registry } from "../services/Registry.js"
import type { Storage } from "../services/Storage.js"
import type { Tracker } from "../services/Tracker.js"
import type { Trainer } from "../services/Trainer.js"
import type { LoadedConfig } from "./loadConfig.js"

/** The types the stages of a run share: what a run is given, what each stage hands to the next. */

export interface RunInput {
  readonly loaded: LoadedConfig
  readonly target?: string | undefined
  readonly task?: "classification" | "regression" | undefined
  readonly codeRevision: string
  readonly driftgateVersion: string
  readonly fineTune?: boolean
}

export type StageError = DriftgateError

/** The services a stage may ask for (all provided by the live and test bundles). */
export type StageRequirements =
  Storage | Tracker | Prompt | Approver | Registry | Trainer | DriftDetector | ImageCodec | FileSystem.FileSystem

/** What a stage reports in run_report.json. */
export type StageSummary = Readonly<Record<string, unknown>> | undefined

export type StageImpl = (ctx: PipelineContext) => Effect.Effect<StageSummary, StageError, StageRequirements>

export const SplitInfoSchema = Schema.Struct({
  key: Schema.String,
  rows: Schema.Number,
  labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number }))
})
export interface SplitInfo extends Schema.Schema.Type<typeof SplitInfoSchema> {}

/** What data preparation hands to the stages: the dataset version, its contract and its split. */
export const PreparedDataSchema = Schema.Struct({
  dataset: Schema.String,
  /** SHA-256 of the raw CSV bytes (images: over sorted paths and file digests). */
  version: Schema.String,
  rawFile: Schema.String,
  spec: DatasetSpecSchema,
  specFile: Schema.String,
  specCreated: Schema.Boolean,
  snapshotKey: Schema.String,
  snapshotCreated: Schema.Boolean,
  rows: Schema.Number,
  validation: Schema.Struct({
    verdict: Schema.Literal("passed"),
    nullFractions: Schema.Record({ key: Schema.String, value: Schema.Number }),
    labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number }))
  }),
  splitId: Schema.String,
  splitKey: Schema.String,
  splits: Schema.Struct({ train: SplitInfoSchema, val: SplitInfoSchema, test: SplitInfoSchema }),
  /** Set when a drift-training batch was staged into this version (see drift stage-training). */
  stagedFrom: Schema.optional(Schema.String)
})
export interface PreparedData extends Schema.Schema.Type<typeof PreparedDataSchema> {}

const isColumnTransformer = (u: unknown): u is ColumnTransformerState =>
  typeof u === "object" &&
  u !== null &&
  (u as { format?: unknown }).format === "driftgate.column_transformer/1" &&
  Array.isArray((u as { steps?: unknown }).steps) &&
  Array.isArray((u as { featureNames?: unknown }).featureNames)

/** transform.json of a tabular model: its inner shape is src/ml's business (transformFrame checks it). */
export const ColumnTransformerSchema = Schema.declare(isColumnTransformer, { identifier: "ColumnTransformerState" })

/** A fitted tabular column transformer or an image transform. */
export const TransformSchema = Schema.Union(ImageTransformSchema, ColumnTransformerSchema)

/** What preprocessing hands to training and evaluation: where the encoded splits are and their contract. */
export const PreprocessedSchema = Schema.Struct({
  key: Schema.String,
  transform: TransformSchema,
  transformHash: Schema.String,
  featureMap: FeatureMapSchema,
  unknownCategories: Schema.Record({
    key: Schema.String,
    value: Schema.Record({ key: Schema.String, value: Schema.Number })
  })
})
export interface Preprocessed extends Schema.Schema.Type<typeof PreprocessedSchema> {}
export type FittedTransform = ColumnTransformerState | ImageTransform

export interface Trained {
  readonly modelKey: string
  readonly modelSha256: string
}

/** Production's side of an evaluation: re-scored on rows it did not train on, or its recorded metrics. */
export interface ProductionBaseline {
  readonly version: number
  readonly runId: string
  readonly metrics: SplitMetrics
  /** The candidate on exactly the rows Production was re-scored on. */
  readonly candidateMetrics: SplitMetrics
  readonly rows: Readonly<Record<string, { readonly compared: number; readonly total: number }>>
  readonly source: string
}

export interface Evaluation {
  readonly metrics: SplitMetrics
  /**
   * Production re-scored on the candidate's evaluation rows that Production did not train on, and
   * the candidate on those same rows: a like-for-like comparison without leakage when the split or
   * the data changed since Production was trained.
   */
  readonly production: ProductionBaseline | null
  readonly comparison: ReadonlyArray<MetricComparison>
  readonly verdict: OverallVerdict
}

export type PromotionOutcome = "approved" | "blocked" | "rejected" | "cancelled"

/** Where promotion stands in this run: not yet run, in progress, decided, or failed for another reason. */
export type PromotionState = "not_run" | "pending" | PromotionOutcome | "failed"

/** What the stages of one run share: ids, anchors, and what each earlier stage produced (typed). */
export interface PipelineContext {
  readonly runId: string
  readonly executionId: string
  readonly input: RunInput
  readonly anchors: Record<string, string>
  readonly config: PipelineConfig
  /** Continue from the deployed CNN's weights (run --fine-tune); evaluation then scores unseen rows only. */
  readonly fineTune: boolean
  prepared: PreparedData | undefined
  preprocessed: Preprocessed | undefined
  trained: Trained | undefined
  evaluation: Evaluation | undefined
  /** Candidate vs Production on the held-out rows of a staged drift-training batch. */
  driftEvaluation: ReadonlyArray<MetricComparison> | undefined
  promotion: PromotionState
}
