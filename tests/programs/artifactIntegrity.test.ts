import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, Layer, ManagedRuntime, Option } from "effect"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describeError, exitCodeOf } from "../../src/domain/describe.js"
import { defaultServeConfig } from "../../src/domain/serveConfig.js"
import { ApproverPolicy } from "../../src/layers/approver/ApproverPolicy.js"
import { DriftDetectorTabular } from "../../src/layers/drift/DriftDetectorTabular.js"
import { ImageCodecSharp } from "../../src/layers/imageCodec/ImageCodecSharp.js"
import { liveLayer } from "../../src/layers/live.js"
import { PromptScripted } from "../../src/layers/prompt/PromptScripted.js"
import { RegistrySqlite } from "../../src/layers/registry/RegistrySqlite.js"
import { SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { StorageFs } from "../../src/layers/storage/StorageFs.js"
import { TrackerSqlite } from "../../src/layers/tracker/TrackerSqlite.js"
import { TrainerAll } from "../../src/layers/trainer/TrainerAll.js"
import { deployedReference } from "../../src/programs/drift/reference.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { promoteRun } from "../../src/programs/promoteRun.js"
import { rollback } from "../../src/programs/rollback.js"
import { runPipeline } from "../../src/programs/runPipeline.js"
import { loadModelSet } from "../../src/programs/serve/modelSet.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { verifyStore } from "../../src/programs/verifyStore.js"
import { Approver } from "../../src/services/Approver.js"
import { Registry } from "../../src/services/Registry.js"

const root = path.resolve(__dirname, "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-integrity-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A small forest on breast_cancer with the given seed; rules that a sound candidate passes. */
const configFile = (seed: number) => {
  const file = path.join(tmp, `bc-${seed}.yaml`)
  fs.writeFileSync(
    file,
    `
name: breast-cancer-rf
task_type: classification
random_seed: ${seed}
data_root: ${JSON.stringify(path.join(root, "data/raw"))}
dataset: breast_cancer
preprocessing: { scale: standard, impute: median, encode: one_hot }
training: { model: random_forest, params: { n_estimators: 20 } }
promotion:
  rules:
    - { id: min_accuracy, metric: accuracy, operator: ">=", threshold: 0.80 }
deployment: { registered_model: breast-cancer }
`
  )
  return file
}

/** The production services on a workspace folder, with their own SQLite connection. */
const live = (ws: string, approver: Layer.Layer<Approver> = ApproverPolicy()) => {
  const base = Layer.mergeAll(
    SqliteDatabaseLive(path.join(ws, "store.db")),
    StorageFs(ws),
    PromptScripted([], false),
    NodeFileSystem.layer
  )
  return Layer.mergeAll(
    TrackerSqlite,
    RegistrySqlite,
    TrainerAll,
    DriftDetectorTabular,
    ImageCodecSharp,
    approver
  ).pipe(Layer.provideMerge(base))
}

const run = (seed: number) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(configFile(seed))
    return yield* runPipeline({ loaded, codeRevision: "0".repeat(40), driftgateVersion: "0.1.0-test" })
  })

/** A workspace with version 1 in Production, trained and registered once for all the tamper cases. */
let pristine = ""
let runId = ""
beforeAll(async () => {
  pristine = path.join(tmp, "pristine")
  fs.mkdirSync(pristine)
  const r = await Effect.runPromise(run(42).pipe(Effect.provide(live(pristine))))
  expect(r.status).toBe("completed")
  runId = r.runId
}, 120_000)

let copies = 0
const copyOf = (ws: string) => {
  const dest = path.join(tmp, `copy-${++copies}`)
  fs.cpSync(ws, dest, { recursive: true })
  return dest
}

const modelDir = (ws: string) => path.join(ws, "artifacts", runId, "model")

/** The four edits of the probe: each leaves a file that still parses (or is gone) but is not what was registered. */
const tampers: ReadonlyArray<{ name: string; file: string; edit: (dir: string) => void }> = [
  {
    name: "one digit of model.json",
    file: "model.json",
    edit: (dir) => {
      const p = path.join(dir, "model.json")
      const text = fs.readFileSync(p, "utf8")
      const i = text.search(/\d\.\d/) + 2
      fs.writeFileSync(p, text.slice(0, i) + String((Number(text[i]) + 1) % 10) + text.slice(i + 1))
    }
  },
  {
    name: "the class order swapped in every tree",
    file: "model.json",
    edit: (dir) => {
      const p = path.join(dir, "model.json")
      const doc = JSON.parse(fs.readFileSync(p, "utf8")) as {
        state: { trees: Array<{ value: number[] }>; nClasses: number }
      }
      for (const t of doc.state.trees)
        for (let i = 0; i < t.value.length; i += doc.state.nClasses) {
          const a = t.value[i]!
          t.value[i] = t.value[i + 1]!
          t.value[i + 1] = a
        }
      fs.writeFileSync(p, JSON.stringify(doc))
    }
  },
  {
    name: "one byte of transform.json",
    file: "transform.json",
    edit: (dir) => {
      const p = path.join(dir, "transform.json")
      const bytes = fs.readFileSync(p)
      const i = bytes.indexOf("5".charCodeAt(0), 40)
      bytes[i] = "4".charCodeAt(0)
      fs.writeFileSync(p, bytes)
    }
  },
  {
    name: "a deleted feature_map.json",
    file: "feature_map.json",
    edit: (dir) => fs.rmSync(path.join(dir, "feature_map.json"))
  }
]

describe("a registered version whose files changed is refused everywhere", () => {
  for (const t of tampers) {
    describe(t.name, () => {
      let ws = ""
      beforeAll(() => {
        ws = copyOf(pristine)
        t.edit(modelDir(ws))
      })
      const key = () => `artifacts/${runId}/model/${t.file}`

      it.effect("registry verify reports the file and the version", () =>
        Effect.gen(function* () {
          const v = yield* verifyStore()
          expect(v.ok).toBe(false)
          expect(v.versions).toEqual([{ model: "breast-cancer", version: 1, stage: "Production", files: "failed" }])
          expect(v.problems).toHaveLength(1)
          expect(v.problems[0]).toContain(key())
          expect(v.problems[0]).toContain("breast-cancer version 1")
          expect(v.problems[0]).toContain(
            t.file === "feature_map.json" ? "is missing" : "was modified after registration"
          )
        }).pipe(Effect.provide(live(ws)))
      )

      it.effect("serve leaves the model out with the reason; a reload fails as a whole", () =>
        Effect.gen(function* () {
          const start = yield* loadModelSet({ stage: "Production", maxBatchRows: 10, onMismatch: "skip" })
          expect(start.models.size).toBe(0)
          expect(start.notes).toHaveLength(1)
          expect(start.notes[0]).toContain("breast-cancer version 1 is not served")
          expect(start.notes[0]).toContain(key())
          const reload = yield* Effect.either(loadModelSet({ stage: "Production", maxBatchRows: 10 }))
          expect(Either.isLeft(reload) && reload.left.message).toContain(key())
        }).pipe(Effect.provide(live(ws)))
      )

      it.effect("drift monitor refuses the reference", () =>
        Effect.gen(function* () {
          const loaded = yield* loadConfig(configFile(42))
          const e = yield* Effect.flip(deployedReference(loaded.config))
          expect(e._tag).toBe("ArtifactMismatch")
          expect(describeError(e)).toContain(key())
          expect(exitCodeOf(e)).toBe(1)
        }).pipe(Effect.provide(live(ws)))
      )

      it.effect(
        "run's comparison with Production refuses it (no silent fallback to recorded metrics)",
        () =>
          Effect.gen(function* () {
            const r = yield* run(43)
            expect(r.status).toBe("failed")
            expect(r.error?._tag).toBe("ArtifactMismatch")
            expect(describeError(r.error!)).toContain(key())
            const stage = r.report.stages.find((s: { name: string }) => s.name === "evaluation")
            expect(stage?.status).toBe("failed")
            // Nothing was registered on the strength of that comparison.
            expect((yield* (yield* Registry).listVersions("breast-cancer")).length).toBe(1)
          }).pipe(Effect.provide(live(ws))),
        120_000
      )
    })
  }

  it("a running server keeps its previous set when a reload meets a tampered version; /ready says why at start", async () => {
    const ws = copyOf(pristine)
    const runtime = ManagedRuntime.make(live(ws))
    try {
      const options = { stage: "Production" as const, maxBatchRows: 10 }
      const initial = await runtime.runPromise(loadModelSet({ ...options, onMismatch: "skip" }))
      const rt = await runtime.runtime()
      const app: FastifyInstance = await makeServer({
        source: modelSource(rt, options),
        initial,
        config: defaultServeConfig(),
        adminToken: "token-0123456789abcdef",
        log: () => {}
      })
      try {
        tampers[0]!.edit(modelDir(ws))
        const res = await app.inject({
          method: "POST",
          url: "/admin/reload",
          headers: { authorization: "Bearer token-0123456789abcdef" }
        })
        expect(res.statusCode).toBe(503)
        expect(res.json().message).toContain(`artifacts/${runId}/model/model.json`)
        const ready = await app.inject({ method: "GET", url: "/ready" })
        expect(ready.statusCode).toBe(200)
        expect(ready.json().models.map((m: { version: number }) => m.version)).toEqual([1])
      } finally {
        await app.close()
      }
      // A server started now serves nothing and /ready names the file.
      const now = await runtime.runPromise(loadModelSet({ ...options, onMismatch: "skip" }))
      const fresh = await makeServer({
        source: modelSource(rt, options),
        initial: now,
        config: defaultServeConfig(),
        log: () => {}
      })
      try {
        const ready = await fresh.inject({ method: "GET", url: "/ready" })
        expect(ready.statusCode).toBe(503)
        expect(ready.json().reason).toContain(`artifacts/${runId}/model/model.json was modified after registration`)
      } finally {
        await fresh.close()
      }
    } finally {
      await runtime.dispose()
    }
  }, 60_000)

  it.effect("an untouched workspace verifies, with every version's files checked", () =>
    Effect.gen(function* () {
      const v = yield* verifyStore()
      expect(v.problems).toEqual([])
      expect(v.ok).toBe(true)
      expect(v.versions).toEqual([{ model: "breast-cancer", version: 1, stage: "Production", files: "verified" }])
      const files = Option.getOrThrow(yield* (yield* Registry).artifactFiles("breast-cancer", 1))
      expect(files.map((f) => f.file)).toEqual([
        "feature_map.json",
        "metadata.json",
        "model.json",
        "reference_profile.json",
        "transform.json"
      ])
    }).pipe(Effect.provide(live(copyOf(pristine))))
  )
})

describe("compare-and-set promotion", () => {
  it.live(
    "a candidate approved after Production moved is refused (exit 2); promote --run re-compares it with the new Production",
    () =>
      Effect.gen(function* () {
        const ws = copyOf(pristine)
        const asked = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        // A human who takes their time: the request is shown, the answer comes after another promotion.
        const slow = Layer.succeed(
          Approver,
          Approver.of({
            name: "scripted-slow",
            decide: () =>
              Deferred.succeed(asked, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.as({ outcome: "approved" as const, by: "alice", reason: "looks good" })
              )
          })
        )
        const a = yield* Effect.fork(run(1).pipe(Effect.provide(live(ws, slow))))
        yield* Deferred.await(asked)
        // Meanwhile another process (its own connection to store.db) promotes version 2.
        const b = yield* run(7).pipe(Effect.provide(live(ws)))
        expect(b.status).toBe("completed")
        yield* Deferred.succeed(release, undefined)
        const ra = yield* Fiber.join(a)

        expect(ra.status).toBe("blocked")
        expect(ra.error?._tag).toBe("StaleComparison")
        expect(exitCodeOf(ra.error!)).toBe(2)
        const sentence = describeError(ra.error!)
        expect(sentence).toContain("compared with version 1 but Production is now version 2")
        expect(sentence).toContain(`promote --run ${ra.runId}`)
        const decision = JSON.parse(
          fs.readFileSync(path.join(ws, "reports", ra.runId, "promotion_decision.json"), "utf8")
        ) as Record<string, unknown>
        expect(decision).toMatchObject({
          outcome: "stale_comparison",
          production_before: { version: 1 },
          production_now: 2
        })

        const after = yield* Effect.gen(function* () {
          const registry = yield* Registry
          return {
            versions: (yield* registry.listVersions("breast-cancer")).map((v) => [v.version, v.stage]),
            audit: (yield* registry.audit("breast-cancer")).filter((r) => r.action === "promote").length
          }
        }).pipe(Effect.provide(live(ws)))
        expect(after.versions).toEqual([
          [1, "Archived"],
          [2, "Production"]
        ])
        expect(after.audit).toBe(2)

        // promote --run evaluates it again, against version 2 this time.
        const again = yield* Effect.either(promoteRun(ra.runId).pipe(Effect.provide(live(ws))))
        const redecided = JSON.parse(
          fs.readFileSync(path.join(ws, "reports", ra.runId, "promotion_decision.json"), "utf8")
        ) as { production_before: { version: number }; outcome: string }
        expect(redecided.production_before.version).toBe(2)
        if (Either.isRight(again)) {
          expect(again.right.evaluation.production?.version).toBe(2)
          expect(again.right.version.version).toBe(3)
        } else {
          expect(redecided.outcome).toBe("blocked")
        }
      }),
    180_000
  )
})

describe("rollback checks its target first", () => {
  it.live(
    "rollback to a version whose model.json is gone is refused and moves nothing; a version registered with digests rolls back",
    () =>
      Effect.gen(function* () {
        const ws = copyOf(pristine)
        const second = yield* run(7).pipe(Effect.provide(live(ws)))
        expect(second.status).toBe("completed")
        const loaded = yield* loadConfig(configFile(42))
        const request = { config: loaded.config, version: 1, reason: "v2 regressed", yes: true, actor: "oncall" }
        fs.renameSync(path.join(modelDir(ws), "model.json"), path.join(tmp, "kept-model.json"))
        const refused = yield* Effect.flip(rollback(request).pipe(Effect.provide(live(ws))))
        expect(refused._tag).toBe("ArtifactMismatch")
        expect(describeError(refused)).toContain(`artifacts/${runId}/model/model.json is missing`)
        const state = yield* Effect.gen(function* () {
          const registry = yield* Registry
          return {
            versions: (yield* registry.listVersions("breast-cancer")).map((v) => [v.version, v.stage]),
            pending: (yield* registry.pendingRollbacks()).length
          }
        }).pipe(Effect.provide(live(ws)))
        expect(state).toEqual({
          versions: [
            [1, "Archived"],
            [2, "Production"]
          ],
          pending: 0
        })
        fs.renameSync(path.join(tmp, "kept-model.json"), path.join(modelDir(ws), "model.json"))
        const done = yield* rollback(request).pipe(Effect.provide(live(ws)))
        expect(done.version?.version).toBe(1)
        expect(done.version?.stage).toBe("Production")
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    180_000
  )
})

describe("read-only commands never create a store", () => {
  it.effect("a missing workspace is StoreMissing naming the path; nothing is created", () =>
    Effect.gen(function* () {
      const missing = path.join(tmp, "no-such-workspace")
      const e = yield* Effect.flip(
        Effect.provide(
          Effect.flatMap(Registry, (r) => r.listModels()),
          liveLayer({ workspace: missing, existing: true })
        )
      )
      expect(e._tag).toBe("StoreMissing")
      if (e._tag !== "StoreMissing") return
      expect(describeError(e)).toContain(`the workspace ${missing} does not exist`)
      expect(exitCodeOf(e)).toBe(1)
      expect(fs.existsSync(missing)).toBe(false)
    })
  )
})
