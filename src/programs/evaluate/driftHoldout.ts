import { Effect, Option } from "effect"
import { compareMetrics, type MetricComparison } from "../../domain/comparison.js"
import type { PipelineConfig } from "../../domain/config.js"
import type { ModelVersion } from "../../domain/registry.js"
import { Storage } from "../../services/Storage.js"
import { Trainer } from "../../services/Trainer.js"
import { activeStaging, isImageStaging } from "../drift/stagingState.js"
import { requireVerifiedFiles } from "../artifactIntegrity.js"
import { loadBundle, type ModelBundle, predictFrame } from "../modelBundle.js"
import type { PreparedData, Preprocessed } from "../pipelineTypes.js"
import { positiveClassIndex, scoreImages, scorePredictions } from "../scoring.js"
import { readFrame, targetVector } from "../splitData.js"
import { artifactKeys } from "../workspace.js"

export interface DriftHoldout {
  readonly stagingId: string
  readonly rows: number
  readonly candidate: Record<string, number>
  readonly production: Record<string, number> | null
  readonly baseline: {
    readonly model: string
    readonly version: number
    readonly run_id: string
    readonly metrics: Readonly<Record<string, number>>
  }
  readonly comparison: ReadonlyArray<MetricComparison>
}

/**
 * With a staged drift-training batch: candidate and current Production on the held-out drifted
 * rows (neither trained on them), beside the baseline recorded when the batch was staged.
 */
export const evaluateDriftHoldout = (args: {
  readonly runId: string
  readonly config: PipelineConfig
  readonly prepared: PreparedData
  readonly preprocessed: Preprocessed
  readonly requested: ReadonlyArray<string>
  readonly production: Option.Option<ModelVersion>
}) =>
  Effect.gen(function* () {
    const { prepared, requested, production: prod } = args
    const staging = yield* activeStaging(args.config.dataset)
    if (staging === null || staging.id !== prepared.stagedFrom) return null
    if (Option.isSome(prod)) yield* requireVerifiedFiles(prod.value)
    const spec = prepared.spec
    const compare = (candidate: Record<string, number>, production: Record<string, number> | null) =>
      compareMetrics(
        requested,
        { drift_holdout: candidate },
        production === null ? null : { drift_holdout: production }
      )
    if (isImageStaging(staging)) {
      const trainer = yield* Trainer
      const storage = yield* Storage
      const classes = args.preprocessed.featureMap.classes ?? []
      const scoreRun = (runId: string) =>
        Effect.flatMap(Effect.flatMap(storage.readText(artifactKeys(runId).model), trainer.decode), (m) =>
          scoreImages(args.config, runId, m, staging.holdout_files, classes, spec.image_properties!)
        )
      const candidate = yield* scoreRun(args.runId)
      const production = Option.isSome(prod) ? yield* scoreRun(prod.value.runId) : null
      return {
        stagingId: staging.id,
        rows: staging.holdout_files.length,
        candidate,
        production,
        baseline: staging.baseline,
        comparison: compare(candidate, production)
      } satisfies DriftHoldout
    }
    const frame = yield* readFrame(staging.holdout_key, spec, [...spec.features, spec.target])
    const score = (bundle: ModelBundle) =>
      Effect.gen(function* () {
        const inputs = bundle.featureMap.input_features.map((f) => f.name)
        const p = yield* predictFrame(bundle, {
          rows: frame.rows,
          columns: inputs.map((n) => frame.columns.find((c) => c.name === n)!)
        })
        const y = targetVector(frame, spec.target, bundle.featureMap.classes)
        return scorePredictions(
          args.config.task_type,
          y,
          p.predictions,
          p.proba,
          bundle.featureMap.classes?.length ?? 0,
          positiveClassIndex(bundle.featureMap.classes, spec.positive_class)
        )
      })
    const candidate = yield* score(yield* loadBundle(args.runId))
    const production = Option.isSome(prod) ? yield* Effect.flatMap(loadBundle(prod.value.runId), score) : null
    return {
      stagingId: staging.id,
      rows: frame.rows,
      candidate,
      production,
      baseline: staging.baseline,
      comparison: compare(candidate, production)
    } satisfies DriftHoldout
  })
