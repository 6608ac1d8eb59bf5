import { Effect, Layer } from "effect"
import type { DriftColumnOverride, DriftConfig } from "../../domain/config.js"
import { DriftInputError } from "../../domain/errors.js"
import type { Frame } from "../../domain/table.js"
import { datasetDrift } from "../../stats/datasetDrift.js"
import { buildProfile, type ColumnValues } from "../../stats/profile.js"
import { DriftDetector } from "../../services/DriftDetector.js"

const columnsOf = (frame: Frame): Map<string, ColumnValues> =>
  new Map(frame.columns.map((c) => [c.name, c.values as ColumnValues]))

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Drift options from the config's drift: block (thresholds, per-column overrides). */
export const driftOptions = (config: DriftConfig) => ({
  driftShare: config.drift_share,
  minBatchSize: config.min_batch_size,
  shareSeverity: config.severity_share,
  severity: { pValue: config.severity_p_value, distance: config.severity_distance },
  columns: Object.fromEntries(
    Object.entries(config.columns as Readonly<Record<string, typeof DriftColumnOverride.Type>>).map(([k, v]) => [
      k,
      { test: v.test, ...(v.threshold !== undefined ? { threshold: v.threshold } : {}) }
    ])
  )
})

/** Tabular drift over src/stats: exact KS / chi-square / Z on small references, distances on large. */
export const DriftDetectorTabular = Layer.succeed(
  DriftDetector,
  DriftDetector.of({
    name: "tabular",
    profile: (frame, seed) =>
      Effect.try({
        try: () => buildProfile(columnsOf(frame), { seed }),
        catch: (e) => new DriftInputError({ message: message(e) })
      }),
    detect: (profile, current, config) =>
      Effect.try({
        try: () => {
          const overrides = Object.keys(config.columns).filter((c) => !profile.columns.some((p) => p.name === c))
          if (overrides.length > 0)
            throw new Error(
              `drift.columns names ${overrides.join(", ")}, which the model's reference profile does not have`
            )
          return datasetDrift(profile, columnsOf(current), driftOptions(config))
        },
        catch: (e) => new DriftInputError({ message: message(e) })
      })
  })
)
