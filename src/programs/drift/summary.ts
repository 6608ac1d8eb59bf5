import { Effect } from "effect"
import { type PipelineConfig, registeredModelName } from "../../domain/config.js"
import { frameFromRecords } from "../../ml/frame.js"
import { Storage } from "../../services/Storage.js"
import { readPredictionLog } from "../serve/predictionLog.js"
import { deployedReference, readHistory } from "./reference.js"
import type { DriftHistoryLine } from "./report.js"
import { servingLogDir } from "../workspace.js"

const SPARK = "▁▂▃▄▅▆▇█"

/** A one-line trend of the share of drifted columns (0 → ▁, 1 → █), oldest first. */
export const sparkline = (values: ReadonlyArray<number>): string =>
  values.map((v) => SPARK[Math.min(SPARK.length - 1, Math.max(0, Math.round(v * (SPARK.length - 1))))]).join("")

export const driftSummary = Effect.fn("program.driftSummary")(function* (config: PipelineConfig) {
  const model = registeredModelName(config)
  const history: ReadonlyArray<DriftHistoryLine> = yield* readHistory(model)
  return { model, checks: history, trend: sparkline(history.map((h) => h.share)) }
})

/** Rows the service logged for the deployed model (optionally since a time), as a batch frame. */
export const servingLogBatch = Effect.fn("drift.servingLog")(function* (
  config: PipelineConfig,
  since: Date | undefined
) {
  const storage = yield* Storage
  const ref = yield* deployedReference(config)
  const rows = yield* readPredictionLog(storage, ref.name, since)
  const schema = ref.bundle.featureMap.input_features.map((f) => ({ name: f.name, dtype: f.dtype }))
  const frame = frameFromRecords(
    rows.map((r) => r.features),
    schema
  )
  return { frame, path: storage.locate(servingLogDir(ref.name)), rows: rows.length }
})
