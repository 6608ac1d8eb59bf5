import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { describeError, exitCodeOf } from "../../src/domain/describe.js"
import { testLayer } from "../../src/layers/test.js"
import { promoteRun } from "../../src/programs/promoteRun.js"
import { reportKeys, stagingKey } from "../../src/programs/workspace.js"
import { Storage } from "../../src/services/Storage.js"
import { configVariant, runConfig } from "./helpers.js"

/** iris trained and evaluated, promotion left for a later `promote --run`. */
const evaluatedRun = runConfig(configVariant("iris.yaml", (t) => t.replace(", promotion, deployment]", "]")))

describe("JSON files of the workspace read back through their schema", () => {
  it.effect("a run_context.json that is not JSON fails promote --run with one sentence naming it (exit 1)", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const r = yield* evaluatedRun
      const key = reportKeys(r.runId).file("run_context.json")
      expect(yield* storage.exists(key)).toBe(true)
      yield* storage.write(key, '{"format": "driftgate.run_context/1", "run_id": ')
      const out = yield* Effect.either(promoteRun(r.runId))
      expect(Either.isLeft(out) && out.left._tag).toBe("WorkspaceFileInvalid")
      if (Either.isLeft(out)) {
        const sentence = describeError(out.left)
        expect(sentence.startsWith(`memory://${key} is not a valid run context: it is not JSON (`)).toBe(true)
        expect(sentence).not.toContain("\n")
        expect(exitCodeOf(out.left)).toBe(1)
      }
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("a run_context.json missing a section names the key at fault; nothing is registered", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const r = yield* evaluatedRun
      const key = reportKeys(r.runId).file("run_context.json")
      const { preprocessed: _drop, ...rest } = JSON.parse(yield* storage.readText(key)) as Record<string, unknown>
      yield* storage.write(key, JSON.stringify(rest))
      const out = yield* Effect.either(promoteRun(r.runId))
      expect(Either.isLeft(out) && out.left._tag).toBe("WorkspaceFileInvalid")
      if (Either.isLeft(out)) expect(describeError(out.left)).toContain('at "preprocessed"')
      expect(yield* storage.exists(reportKeys(r.runId).file("promotion_decision.json"))).toBe(false)
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("an intact run_context.json round-trips: promote --run of the same run succeeds", () =>
    Effect.gen(function* () {
      const r = yield* evaluatedRun
      const out = yield* promoteRun(r.runId)
      expect(out.version.version).toBe(1)
      expect(out.manifest.readiness).toBe("ready")
    }).pipe(Effect.provide(testLayer({ decisions: [{ outcome: "approved", by: "user:test", reason: "ok" }] })))
  )

  it.effect("a corrupt staged.json fails the run's data preparation naming the file, not as a crash", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      yield* storage.write(stagingKey("iris"), "{ torn")
      const r = yield* evaluatedRun
      expect(r.status).toBe("failed")
      expect(r.error?._tag).toBe("WorkspaceFileInvalid")
      const prep = r.report.stages.find((s) => s.name === "data_preparation")!
      expect(prep.error).toContain(`memory://${stagingKey("iris")} is not a valid drift-training staging record`)
    }).pipe(Effect.provide(testLayer()))
  )
})
