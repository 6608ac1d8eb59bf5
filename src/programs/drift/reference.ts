import { Effect, Either, Schema } from "effect"
import { type PipelineConfig, Severity } from "../../domain/config.js"
import { DriftInputError, DriftReferenceMissing } from "../../domain/errors.js"
import { parseProfile, type ReferenceProfile } from "../../stats/profile.js"
import { Storage } from "../../services/Storage.js"
import { deployedVersion } from "../deployed.js"
import { loadBundle, type ModelBundle } from "../modelBundle.js"
import { artifactKeys, driftKeys } from "../workspace.js"
import { ALL_DRIFT_ACTIONS, type DriftHistoryLine } from "./report.js"

/** The model version drift is measured against (the deployed stage), with its bundle and reference profile. */
export const deployedReference = Effect.fn("drift.reference")(function* (config: PipelineConfig) {
  const storage = yield* Storage
  const { name, version } = yield* deployedVersion(
    config,
    "to compare against; promote one first (driftgate run … --approve auto)"
  )
  const bundle = yield* loadBundle(version.runId)
  const key = artifactKeys(version.runId).profile
  if (!(yield* storage.exists(key))) {
    return yield* Effect.fail(
      new DriftReferenceMissing({ model: name, version: version.version, kind: "profile", key })
    )
  }
  const text = yield* storage.readText(key)
  const profile: ReferenceProfile = yield* Effect.try({
    try: () => parseProfile(JSON.parse(text)),
    catch: (e) =>
      new DriftInputError({
        message: `${storage.locate(key)}: ${e instanceof Error ? e.message : String(e)}`,
        cause: e
      })
  })
  return { name, version, bundle: bundle as ModelBundle, profile }
})

const HistoryLineSchema = Schema.Struct({
  id: Schema.String,
  at: Schema.String,
  model: Schema.String,
  version: Schema.Number,
  batch: Schema.String,
  rows: Schema.Number,
  share: Schema.Number,
  drifted_columns: Schema.Number,
  columns: Schema.Number,
  dataset_drift: Schema.Boolean,
  severity: Severity,
  decision: Schema.NullOr(
    Schema.Struct({
      action: Schema.Literal(...ALL_DRIFT_ACTIONS),
      reason: Schema.String,
      by: Schema.String,
      at: Schema.String
    })
  ),
  report: Schema.String
})

/** The latest drift check of a model, one line, for the approval gate. */
export const latestDrift = Effect.fn("drift.latest")(function* (model: string) {
  const lines = yield* readHistory(model)
  return lines.at(-1) ?? null
})

/** drift/<model>/history.jsonl, one entry per check, oldest first. */
export const readHistory = Effect.fn("drift.history")(function* (model: string) {
  const storage = yield* Storage
  const key = driftKeys(model).history
  if (!(yield* storage.exists(key))) return [] as DriftHistoryLine[]
  const text = yield* storage.readText(key)
  // A decision is appended as a second line with the same id: the last word wins.
  const byId = new Map<string, DriftHistoryLine>()
  const decode = Schema.decodeUnknownEither(HistoryLineSchema)
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    // A torn last line after a crash (not JSON, or cut short) is skipped.
    const parsed = Either.flatMap(
      Either.try(() => JSON.parse(line) as unknown),
      (json) => decode(json)
    )
    if (Either.isLeft(parsed)) continue
    const h: DriftHistoryLine = parsed.right
    byId.set(h.id, { ...byId.get(h.id), ...h })
  }
  return [...byId.values()].sort((a, b) => a.at.localeCompare(b.at))
})
