import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Either, Layer } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { exitCodeOf } from "../../src/domain/describe.js"
import { RegistryMemory } from "../../src/layers/registry/RegistryMemory.js"
import { PromptScripted } from "../../src/layers/prompt/PromptScripted.js"
import { StorageMemory } from "../../src/layers/storage/StorageMemory.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { rollback } from "../../src/programs/rollback.js"
import type { Prompt } from "../../src/services/Prompt.js"
import { Registry } from "../../src/services/Registry.js"
import type { Storage } from "../../src/services/Storage.js"
import { promoteInput } from "../layers/registry-crash-support.js"
import { root } from "./helpers.js"

/** Two iris versions (v2 in Production), then `body` against the same registry with a scripted prompt. */
const withTwoVersions = <A, E>(
  answers: ReadonlyArray<string>,
  body: Effect.Effect<A, E, Registry | Prompt | Storage>
) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const r = yield* Registry
      yield* r.promote(promoteInput("iris"))
      yield* r.promote(promoteInput("iris"))
      return yield* body
    }).pipe(Effect.provide(Layer.mergeAll(RegistryMemory, PromptScripted(answers), StorageMemory)))
  )

const config = () =>
  Effect.runPromise(loadConfig(path.join(root, "configs/iris.yaml")).pipe(Effect.provide(NodeFileSystem.layer))).then(
    (l) => l.config
  )

describe("rollback UX (issue #12 item 5)", () => {
  it("a declined confirmation is a cancellation (exit 3), and nothing changes", async () => {
    const cfg = await config()
    const out = await withTwoVersions(
      ["1", "v2 misbehaves", "no"],
      Effect.gen(function* () {
        const result = yield* Effect.either(rollback({ config: cfg, yes: false, actor: "user:test" }))
        return { result, versions: yield* (yield* Registry).listVersions("iris") }
      })
    )
    expect(Either.isLeft(out.result)).toBe(true)
    if (Either.isLeft(out.result)) {
      expect(exitCodeOf(out.result.left)).toBe(3)
      expect(out.result.left.message).toContain("not confirmed")
    }
    expect(out.versions.find((v) => v.version === 2)?.stage).toBe("Production")
  })

  it("--abandon requires --reason; with one, the intent is dropped and the reason recorded", async () => {
    const cfg = await config()
    const out = await withTwoVersions(
      [],
      Effect.gen(function* () {
        const r = yield* Registry
        yield* r.beginRollback({ name: "iris", toVersion: 1, reason: "power cut", actor: "user:test" })
        const bare = yield* Effect.either(rollback({ config: cfg, yes: true, actor: "oncall", abandon: true }))
        const pendingAfterBare = (yield* r.pendingRollbacks()).length
        const blank = yield* Effect.either(
          rollback({ config: cfg, yes: true, actor: "oncall", abandon: true, reason: "  " })
        )
        const done = yield* rollback({ config: cfg, yes: true, actor: "oncall", abandon: true, reason: "false alarm" })
        return { bare, blank, pendingAfterBare, done, audit: yield* r.audit(), pending: yield* r.pendingRollbacks() }
      })
    )
    for (const refused of [out.bare, out.blank]) {
      expect(Either.isLeft(refused)).toBe(true)
      if (Either.isLeft(refused)) {
        expect(exitCodeOf(refused.left)).toBe(64)
        expect(refused.left.message).toContain("--reason")
      }
    }
    expect(out.pendingAfterBare).toBe(1)
    expect(out.done.action).toBe("abandoned")
    expect(out.pending).toEqual([])
    expect(out.audit.at(-1)).toMatchObject({ action: "rollback_abandoned", reason: "false alarm", actor: "oncall" })
  })
})
