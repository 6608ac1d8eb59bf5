import { Context, type Effect } from "effect"
import type { DriftConfig } from "../domain/config.js"
import type { DriftInputError } from "../domain/errors.js"
import type { Frame } from "../domain/table.js"
import type { DatasetDriftResult } from "../stats/datasetDrift.js"
import type { ReferenceProfile } from "../stats/profile.js"

/** Reference profile once per model version; reference vs current → per-feature tests + dataset verdict. */
export class DriftDetector extends Context.Tag("driftgate/DriftDetector")<
  DriftDetector,
  {
    readonly name: string
    readonly profile: (frame: Frame, seed: number) => Effect.Effect<ReferenceProfile, DriftInputError>
    /**
     * The same profile, begun now (on another thread where the layer can, for a large frame): the returned
     * effect waits for it. For a caller with other work to do meanwhile (preprocessing's transforms).
     */
    readonly startProfile: (
      frame: Frame,
      seed: number
    ) => Effect.Effect<Effect.Effect<ReferenceProfile, DriftInputError>>
    readonly detect: (
      profile: ReferenceProfile,
      current: Frame,
      config: DriftConfig
    ) => Effect.Effect<DatasetDriftResult, DriftInputError>
  }
>() {}
