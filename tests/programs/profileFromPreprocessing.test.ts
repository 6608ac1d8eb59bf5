import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { featureFrame, readFrame } from "../../src/programs/splitData.js"
import { artifactKeys, preprocessedKeys } from "../../src/programs/workspace.js"
import { DriftDetector } from "../../src/services/DriftDetector.js"
import { Storage } from "../../src/services/Storage.js"
import { configVariant, runConfig } from "./helpers.js"

// The drift reference profile is made in preprocessing, from the train rows that stage already took out
// of the snapshot, and training copies it into the model's artifacts. It must be the profile training made
// itself before: the raw train features read again through readFrame, profiled with the run's seed.

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }

describe("the reference profile made in preprocessing", () => {
  it.effect("equals the profile of the train split read again (breast_cancer: numbers; wine: another seed)", () =>
    Effect.gen(function* () {
      for (const [config, edit] of [
        ["breast_cancer.yaml", (t: string) => t],
        ["wine.yaml", (t: string) => t.replace(/random_seed: \d+/, "random_seed: 7")]
      ] as const) {
        const file = configVariant(config, edit)
        const seed = (yield* loadConfig(file)).config.random_seed
        const r = yield* runConfig(file)
        expect(r.status).toBe("completed")
        const storage = yield* Storage
        const written = yield* storage.readText(artifactKeys(r.runId).profile)
        const prepared = r.prepared!
        const train = yield* readFrame(prepared.splits.train.key, prepared.spec, prepared.spec.features)
        const profile = yield* (yield* DriftDetector).profile(featureFrame(train, prepared.spec.features), seed)
        expect(written).toBe(JSON.stringify(profile) + "\n")
        // made by preprocessing (training copies it), not by training's fallback for older workspaces
        const made = yield* storage.readText(preprocessedKeys(r.context.preprocessed!.key).profile(seed))
        expect(made).toBe(written)
        expect(profile.rows).toBe(prepared.splits.train.rows)
      }
    }).pipe(Effect.provide(testLayer({ decisions: [approve, approve] })))
  )
})
