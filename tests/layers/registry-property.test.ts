import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import fc from "fast-check"
import type { Stage } from "../../src/domain/registry.js"
import { RegistryMemory } from "../../src/layers/registry/RegistryMemory.js"
import { Registry } from "../../src/services/Registry.js"
import { promoteInput, registryProblems, sqliteRegistry } from "./registry-crash-support.js"

const Model = fc.constantFrom("a", "b")
const StageArb = fc.constantFrom<Stage>("None", "Staging", "Production", "Archived")
/** Picks a version among the model's current ones; 0 picks one past the highest, to exercise refusals. */
const Pick = fc.integer({ min: 0, max: 6 })
const resolvePick = (name: string, pick: number) =>
  Effect.map(
    Effect.flatMap(Registry, (r) => r.listVersions(name)),
    (vs) => (pick === 0 || vs.length === 0 ? vs.length + 1 : ((pick - 1) % vs.length) + 1)
  )

const Op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("promote" as const),
      model: Model,
      staging: fc.boolean(),
      lineage: fc.integer({ min: 0, max: 9 })
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reject" as const), model: Model }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("rollback" as const),
      model: Model,
      to: Pick,
      finish: fc.constantFrom("complete", "abandon", "leave")
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("transition" as const), model: Model, version: Pick, to: StageArb })
  }
)
type Op = typeof Op extends fc.Arbitrary<infer T> ? T : never

/** One step; the result is what happened, comparable across layers (run and intent ids differ, so not those). */
const step = (op: Op) =>
  Effect.gen(function* () {
    const r = yield* Registry
    switch (op.kind) {
      case "promote": {
        const input = promoteInput(op.model, { stage: op.staging ? "Staging" : "Production" })
        // One in ten promotions lacks an anchor and must be refused without a trace.
        const { code_revision: _c, ...partial } = input.tags
        return yield* r
          .promote(op.lineage === 0 ? { ...input, tags: partial } : input)
          .pipe(Effect.map((v) => `v${v.version}`))
      }
      case "reject":
        return yield* r
          .record({
            actor: "reviewer",
            action: "rejected",
            model: op.model,
            version: null,
            fromStage: null,
            toStage: null,
            reason: "no",
            details: {}
          })
          .pipe(Effect.as("recorded"))
      case "rollback": {
        // A rollback left pending by an earlier step is found and finished first, as the CLI does.
        // Compare-and-set: a pending rollback whose Production has moved since is refused, then dropped.
        for (const p of yield* r.pendingRollbacks())
          if (p.model === op.model)
            yield* r
              .completeRollback(p.id)
              .pipe(Effect.catchTag("StaleComparison", () => r.abandonRollback(p.id, "Production moved", "oncall")))
        const intent = yield* r.beginRollback({
          name: op.model,
          toVersion: yield* resolvePick(op.model, op.to),
          reason: "drill",
          actor: "oncall"
        })
        if (op.finish === "complete")
          return yield* r.completeRollback(intent.id).pipe(Effect.map((v) => `rolled back to v${v.version}`))
        if (op.finish === "abandon")
          return yield* r.abandonRollback(intent.id, "never mind", "oncall").pipe(Effect.as("abandoned"))
        return "pending"
      }
      case "transition":
        return yield* r
          .transition({
            name: op.model,
            version: yield* resolvePick(op.model, op.version),
            to: op.to,
            actor: "ops",
            reason: "manual"
          })
          .pipe(Effect.map((v) => `v${v.version} ${v.stage}`))
    }
  }).pipe(
    Effect.catchTag("RegistryError", (e) =>
      Effect.succeed(`refused: ${e.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>")}`)
    )
  )

const snapshot = Effect.gen(function* () {
  const r = yield* Registry
  const models = yield* r.listModels()
  const versions = yield* Effect.forEach(models, (m) =>
    Effect.map(r.listVersions(m.name), (vs) =>
      vs.map((v) => `${m.name} v${v.version} ${v.stage} [${v.aliases.join(",")}]`)
    )
  )
  const audit = (yield* r.audit()).map(
    (x) => `${x.seq} ${x.action} ${x.model} ${x.version} ${x.fromStage}->${x.toStage}`
  )
  const pending = (yield* r.pendingRollbacks()).map((i) => `${i.model} ${i.fromVersion}->${i.toVersion}`)
  return { versions: versions.flat(), audit, pending }
})

class Sqlite extends Context.Tag("test/SqliteRegistry")<Sqlite, Registry["Type"]>() {}
class Memory extends Context.Tag("test/MemoryRegistry")<Memory, Registry["Type"]>() {}

const both = Layer.merge(
  Layer.effect(Sqlite, Registry).pipe(Layer.provide(sqliteRegistry(":memory:"))),
  Layer.effect(Memory, Registry).pipe(Layer.provide(RegistryMemory))
)

/** Runs the same sequence on both layers, checking the invariants and that the layers agree after every step. */
const runSequence = (ops: ReadonlyArray<Op>) =>
  Effect.gen(function* () {
    const sqlite = Layer.succeed(Registry, yield* Sqlite)
    const memory = Layer.succeed(Registry, yield* Memory)
    for (const [i, op] of ops.entries()) {
      const a = yield* Effect.provide(step(op), sqlite)
      const b = yield* Effect.provide(step(op), memory)
      const where = `step ${i + 1} (${JSON.stringify(op)})`
      expect(a, `${where}: the layers disagree`).toBe(b)
      for (const layer of [sqlite, memory]) {
        expect(yield* Effect.provide(registryProblems, layer), where).toEqual([])
      }
      const [sa, sb] = [yield* Effect.provide(snapshot, sqlite), yield* Effect.provide(snapshot, memory)]
      expect(sa, where).toEqual(sb)
    }
    return yield* Effect.provide(snapshot, sqlite)
  }).pipe(Effect.provide(both))

describe("Registry invariants under random operation sequences (RegistrySqlite and RegistryMemory)", () => {
  it("never two Production versions, the chain always verifies, versions contiguous, both layers agree", async () => {
    let promoted = 0,
      rolledBack = 0
    await fc.assert(
      fc.asyncProperty(fc.array(Op, { minLength: 1, maxLength: 30, size: "max" }), async (ops) => {
        const end = await Effect.runPromise(runSequence(ops))
        promoted += end.audit.filter((l) => l.includes(" promote ")).length
        rolledBack += end.audit.filter((l) => l.includes(" rollback ")).length
      }),
      { numRuns: 80 }
    )
    // The generator reaches the interesting states, not just refusals.
    console.log(`registry property: ${promoted} promotions, ${rolledBack} completed rollbacks`)
    expect(promoted).toBeGreaterThan(200)
    expect(rolledBack).toBeGreaterThan(20)
  })
})
