import { afterAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, Ref, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { StoreError } from "../../src/domain/errors.js"
import { type AuditRecord, GENESIS_HASH, verifyChain } from "../../src/domain/registry.js"
import { makeRegistryMemoryWithState } from "../../src/layers/registry/RegistryMemory.js"
import { SqliteDatabase } from "../../src/layers/sqlite/SqliteDatabase.js"
import { PostgresDatabase, PostgresDatabaseLive } from "../../src/layers/postgres/PostgresDatabase.js"
import { RegistryPostgres } from "../../src/layers/registry/RegistryPostgres.js"
import { Registry } from "../../src/services/Registry.js"
import { promoteInput, registryProblems, sqliteRegistry } from "./registry-crash-support.js"
import { cleanUpDatabases, freshDatabase, PG_URL } from "./pg-support.js"

/** What a test may do behind the registry's back: rewrite a stored audit record's reason. */
class Tamper extends Context.Tag("test/RegistryTamper")<
  Tamper,
  {
    readonly rewriteReason: (seq: number, reason: string) => Effect.Effect<void, unknown>
  }
>() {}

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sqliteTamper = Layer.effect(
  Tamper,
  Effect.map(SqliteDatabase, (sql) => ({
    rewriteReason: (seq: number, reason: string) =>
      sql.query("tamper", (db) => {
        db.exec("DROP TRIGGER audit_log_no_update")
        db.prepare("UPDATE audit_log SET reason = ? WHERE seq = ?").run(reason, seq)
      })
  }))
)

/** One SqliteDatabase (the same layer value, so built once) shared by the registry and the tamper hook. */
const sqliteLayer = (path: string) => {
  const db = sqliteRegistry(path)
  return Layer.merge(db, sqliteTamper.pipe(Layer.provide(db)))
}

const pgTamper = Layer.effect(
  Tamper,
  Effect.map(PostgresDatabase, (pg) => ({
    rewriteReason: (seq: number, reason: string) =>
      Effect.zipRight(
        pg.query("tamper", "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"),
        pg.query("tamper", "UPDATE audit_log SET reason = $1 WHERE seq = $2", [reason, seq])
      )
  }))
)

/** A fresh database on the test server (DRIFTGATE_TEST_PG_URL), shared by the registry and the tamper hook. */
const pgLayer = () =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => freshDatabase()),
      (url) => {
        const db = PostgresDatabaseLive(url)
        return Layer.merge(RegistryPostgres.pipe(Layer.provide(db)), pgTamper.pipe(Layer.provide(db)))
      }
    )
  )
cleanUpDatabases()

type TestLayer =
  | Layer.Layer<Registry | Tamper | SqliteDatabase, StoreError>
  | Layer.Layer<Registry | Tamper, StoreError>
  | Layer.Layer<Registry | Tamper>

const implementations: ReadonlyArray<{
  readonly name: string
  readonly layer: () => TestLayer
  readonly sqlite: boolean
}> = [
  {
    name: "RegistrySqlite (store.db in a temp dir)",
    sqlite: true,
    layer: () => {
      const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-"))
      dirs.push(dir)
      return sqliteLayer(join(dir, "store.db"))
    }
  },
  { name: "RegistrySqlite (:memory:)", sqlite: true, layer: () => sqliteLayer(":memory:") },
  {
    name: "RegistryMemory",
    sqlite: false,
    layer: () =>
      Layer.effectContext(
        Effect.map(makeRegistryMemoryWithState, ({ registry, state }) =>
          Context.make(Registry, registry).pipe(
            Context.add(Tamper, {
              rewriteReason: (seq: number, reason: string) =>
                Ref.update(state, (s) => ({ ...s, audit: s.audit.map((r) => (r.seq === seq ? { ...r, reason } : r)) }))
            })
          )
        )
      )
  },
  // The same suite on PostgreSQL when a test server is configured (tests/layers/registry-postgres.test.ts
  // says so, or fails under CI=true, when it is not).
  ...(PG_URL === ""
    ? []
    : [{ name: "RegistryPostgres (a fresh database on DRIFTGATE_TEST_PG_URL)", sqlite: false, layer: pgLayer }])
]

/** Every invariant holds (chain, one Production, contiguous versions, audit explains state). */
const expectSound = Effect.gen(function* () {
  expect(yield* registryProblems).toEqual([])
})

const actions = (records: ReadonlyArray<AuditRecord>) => records.map((r) => r.action)

const refusal = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(self), (e) => {
    expect(Either.isLeft(e)).toBe(true)
    return (e as Either.Left<E, A>).left
  })

for (const impl of implementations) {
  describe(impl.name, () => {
    // Only the sqlite-only tests ask for SqliteDatabase.
    const run = <A, E>(body: Effect.Effect<A, E, Registry | Tamper | SqliteDatabase>) =>
      Effect.provide(body, impl.layer() as Layer.Layer<Registry | Tamper | SqliteDatabase, StoreError>)

    it.effect("first promote: version 1 in Production with the champion alias, and its audit records", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          const input = promoteInput("iris", { details: { accuracy: 0.97 } })
          const v = yield* r.promote(input)
          expect(v).toMatchObject({
            name: "iris",
            version: 1,
            stage: "Production",
            aliases: ["champion"],
            runId: input.runId
          })
          expect(v.tags).toEqual(input.tags)
          expect(v.createdAt).toBe("1970-01-01T00:00:00.000Z")
          expect((yield* r.listModels()).map((m) => m.name)).toEqual(["iris"])
          expect(Option.getOrThrow(yield* r.getProduction("iris")).version).toBe(1)
          const audit = yield* r.audit()
          expect(actions(audit)).toEqual(["create_model", "promote", "set_alias"])
          expect(audit[0]!.prevHash).toBe(GENESIS_HASH)
          expect(audit[1]).toMatchObject({
            version: 1,
            fromStage: "None",
            toStage: "Production",
            reason: "passed all rules",
            actor: "tester"
          })
          expect(audit[1]!.details).toEqual({ accuracy: 0.97, run_id: input.runId, artifact_path: input.artifactPath })
          expect(audit[2]!.details).toEqual({ alias: "champion", previous_version: null })
          expect(yield* r.verify()).toEqual({ ok: true, records: 3, problems: [] })
          yield* expectSound
        })
      )
    )

    it.effect("second promote: version 2 in Production, version 1 Archived, champion moved", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* TestClock.adjust("1 hour")
          const v2 = yield* r.promote(promoteInput("iris"))
          expect(v2).toMatchObject({
            version: 2,
            stage: "Production",
            aliases: ["champion"],
            createdAt: "1970-01-01T01:00:00.000Z"
          })
          const [v1] = yield* r.listVersions("iris")
          expect(v1).toMatchObject({
            version: 1,
            stage: "Archived",
            aliases: [],
            updatedAt: "1970-01-01T01:00:00.000Z"
          })
          const audit = yield* r.audit("iris")
          expect(actions(audit.slice(3))).toEqual(["transition", "promote", "set_alias"])
          expect(audit[3]).toMatchObject({
            version: 1,
            fromStage: "Production",
            toStage: "Archived",
            reason: "superseded by version 2"
          })
          expect(audit[5]!.details).toEqual({ alias: "champion", previous_version: 1 })
          expect((yield* r.getByStage("iris", "Production")).map((v) => v.version)).toEqual([2])
          yield* expectSound
        })
      )
    )

    it.effect("a version missing lineage anchors is refused and nothing is written", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          const input = promoteInput("iris")
          const { dataset_version: _d, code_revision: _c, ...tags } = input.tags
          const e = yield* refusal(r.promote({ ...input, tags: { ...tags, config_hash: "abc" } }))
          expect(e._tag).toBe("RegistryError")
          expect(e).toMatchObject({ model: "iris" })
          expect(e.message).toContain("config_hash is malformed")
          expect(e.message).toContain("dataset_version is missing")
          expect(e.message).toContain("code_revision is missing")
          expect(yield* r.listModels()).toEqual([])
          expect(yield* r.audit()).toEqual([])
          // Also when the model exists: no version 2, no audit record.
          yield* r.promote(promoteInput("iris"))
          const before = yield* r.audit()
          yield* refusal(r.promote({ ...promoteInput("iris"), tags: tags }))
          expect((yield* r.listVersions("iris")).map((v) => v.version)).toEqual([1])
          expect(yield* r.audit()).toEqual(before)
          // The run being registered must be the run the anchors describe.
          const other = yield* refusal(r.promote({ ...promoteInput("iris"), runId: promoteInput("x").runId }))
          expect(other.message).toContain("run_id tag")
          yield* expectSound
        })
      )
    )

    it.effect("promote into Staging leaves Production and the champion alone", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          const s = yield* r.promote(promoteInput("iris", { stage: "Staging", aliases: ["challenger"] }))
          expect(s).toMatchObject({ version: 2, stage: "Staging", aliases: ["challenger"] })
          expect(Option.getOrThrow(yield* r.getProduction("iris"))).toMatchObject({ version: 1, aliases: ["champion"] })
          const s3 = yield* r.promote(promoteInput("iris", { stage: "Staging" }))
          expect(s3.aliases).toEqual([])
          expect((yield* r.listVersions("iris")).map((v) => v.stage)).toEqual(["Production", "Archived", "Staging"])
          yield* expectSound
        })
      )
    )

    it.effect("transition to Staging, None and Production; Production archives the current one", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          const t = { name: "iris", actor: "ops", reason: "review" }
          expect(yield* r.transition({ ...t, version: 1, to: "Staging" })).toMatchObject({
            version: 1,
            stage: "Staging"
          })
          yield* expectSound
          expect(yield* r.transition({ ...t, version: 1, to: "None" })).toMatchObject({ stage: "None" })
          yield* expectSound
          expect(yield* r.transition({ ...t, version: 1, to: "Production" })).toMatchObject({ stage: "Production" })
          expect((yield* r.listVersions("iris")).map((v) => v.stage)).toEqual(["Production", "Archived"])
          const tail = (yield* r.audit()).slice(-2)
          expect(tail.map((x) => [x.action, x.version, x.fromStage, x.toStage])).toEqual([
            ["transition", 2, "Production", "Archived"],
            ["transition", 1, "None", "Production"]
          ])
          // Production → None leaves the model with no Production version at all.
          yield* r.transition({ ...t, version: 1, to: "None" })
          expect(Option.isNone(yield* r.getProduction("iris"))).toBe(true)
          const count = (yield* r.audit()).length
          expect((yield* refusal(r.transition({ ...t, version: 9, to: "Staging" }))).message).toBe(
            "model iris has no version 9 (versions: 1, 2)"
          )
          expect((yield* refusal(r.transition({ ...t, name: "nope", version: 1, to: "Staging" }))).message).toBe(
            "model nope is not registered"
          )
          expect((yield* refusal(r.transition({ ...t, version: 1, to: "None" }))).message).toBe(
            "version 1 is already in None"
          )
          expect((yield* r.audit()).length).toBe(count)
          yield* expectSound
        })
      )
    )

    it.effect("setAlias points an alias at a version and records it", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          yield* r.setAlias({ name: "iris", alias: "challenger", version: 1, actor: "ops" })
          expect((yield* r.listVersions("iris")).map((v) => v.aliases)).toEqual([["challenger"], ["champion"]])
          const count = (yield* r.audit()).length
          yield* r.setAlias({ name: "iris", alias: "challenger", version: 1, actor: "ops" }) // no change, no record
          expect((yield* r.audit()).length).toBe(count)
          expect(
            (yield* refusal(r.setAlias({ name: "iris", alias: "x", version: 3, actor: "ops" }))).message
          ).toContain("has no version 3")
          yield* expectSound
        })
      )
    )

    it.effect("rollback: intent, then one step to the target with champion and audit; cannot complete twice", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          yield* TestClock.adjust("5 minutes")
          const intent = yield* r.beginRollback({
            name: "iris",
            toVersion: 1,
            reason: "accuracy dropped",
            actor: "oncall"
          })
          expect(intent).toMatchObject({
            model: "iris",
            fromVersion: 2,
            toVersion: 1,
            status: "pending",
            createdAt: "1970-01-01T00:05:00.000Z"
          })
          expect(intent.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/)
          // The intent alone changes no stage.
          expect(Option.getOrThrow(yield* r.getProduction("iris")).version).toBe(2)
          expect(yield* r.pendingRollbacks()).toEqual([intent])
          yield* expectSound
          const v1 = yield* r.completeRollback(intent.id)
          expect(v1).toMatchObject({ version: 1, stage: "Production", aliases: ["champion"] })
          expect((yield* r.listVersions("iris")).map((v) => v.stage)).toEqual(["Production", "Archived"])
          expect(yield* r.pendingRollbacks()).toEqual([])
          const tail = (yield* r.audit()).slice(-4)
          expect(tail.map((x) => [x.action, x.version, x.fromStage, x.toStage, x.reason, x.actor])).toEqual([
            ["rollback_intent", 1, null, null, "accuracy dropped", "oncall"],
            ["transition", 2, "Production", "Archived", "rolled back to version 1", "oncall"],
            ["rollback", 1, "Archived", "Production", "accuracy dropped", "oncall"],
            ["set_alias", 1, null, null, "accuracy dropped", "oncall"]
          ])
          expect(tail[2]!.details).toEqual({ intent_id: intent.id, from_version: 2 })
          const again = yield* refusal(r.completeRollback(intent.id))
          expect(again).toMatchObject({
            _tag: "RegistryError",
            message: `rollback intent ${intent.id} is already completed`
          })
          expect((yield* refusal(r.completeRollback("no-such-intent"))).message).toBe(
            "there is no rollback intent no-such-intent"
          )
          yield* expectSound
        })
      )
    )

    it.effect("rollback refusals: unknown version, already in Production, another rollback pending", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          const req = { name: "iris", reason: "r", actor: "a" }
          const unknown = yield* refusal(r.beginRollback({ ...req, toVersion: 7 }))
          expect(unknown).toMatchObject({
            _tag: "RegistryError",
            model: "iris",
            message: "model iris has no version 7 (versions: 1, 2)"
          })
          expect((yield* refusal(r.beginRollback({ ...req, toVersion: 2 }))).message).toBe(
            "version 2 is already in Production"
          )
          expect((yield* refusal(r.beginRollback({ ...req, name: "ghost", toVersion: 1 }))).message).toBe(
            "model ghost is not registered"
          )
          const first = yield* r.beginRollback({ ...req, toVersion: 1 })
          const count = (yield* r.audit()).length
          const second = yield* refusal(r.beginRollback({ ...req, toVersion: 1 }))
          expect(second.message).toContain(first.id)
          expect(second.message).toContain("already pending")
          expect((yield* r.audit()).length).toBe(count)
          expect((yield* r.pendingRollbacks()).map((i) => i.id)).toEqual([first.id])
          yield* expectSound
        })
      )
    )

    it.effect("abandon: the intent is closed with an audit record and the registry is unchanged", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          const before = yield* r.listVersions("iris")
          const intent = yield* r.beginRollback({ name: "iris", toVersion: 1, reason: "r", actor: "a" })
          yield* r.abandonRollback(intent.id, "false alarm", "b")
          expect(yield* r.listVersions("iris")).toEqual(before)
          expect(yield* r.pendingRollbacks()).toEqual([])
          expect((yield* r.audit()).at(-1)).toMatchObject({
            action: "rollback_abandoned",
            version: 1,
            reason: "false alarm",
            actor: "b",
            details: { intent_id: intent.id }
          })
          expect((yield* refusal(r.completeRollback(intent.id))).message).toContain("is already abandoned")
          expect((yield* refusal(r.abandonRollback(intent.id, "x", "y"))).message).toContain("is already abandoned")
          // A new rollback may begin once the old one is abandoned.
          const next = yield* r.beginRollback({ name: "iris", toVersion: 1, reason: "r2", actor: "a" })
          expect((yield* r.completeRollback(next.id)).stage).toBe("Production")
          yield* expectSound
        })
      )
    )

    it.effect("record() appends a state-free record (rejections, cancellations)", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          const rec = yield* r.record({
            actor: "reviewer",
            action: "rejected",
            model: "iris",
            version: null,
            fromStage: null,
            toStage: null,
            reason: "f1 too low",
            details: { run_id: "r1", skipped: undefined }
          })
          expect(rec).toMatchObject({
            seq: 1,
            action: "rejected",
            prevHash: GENESIS_HASH,
            reason: "f1 too low",
            details: { run_id: "r1" }
          })
          expect(yield* r.listModels()).toEqual([])
          yield* r.promote(promoteInput("iris"))
          const c = yield* r.record({
            actor: "ci",
            action: "cancelled",
            model: "iris",
            version: null,
            fromStage: null,
            toStage: null,
            reason: "headless",
            details: {}
          })
          expect(c.seq).toBe(5)
          expect((yield* r.audit()).at(-1)).toEqual(c)
          expect(actions(yield* r.audit("iris"))).toEqual([
            "rejected",
            "create_model",
            "promote",
            "set_alias",
            "cancelled"
          ])
          expect(yield* r.audit("other")).toEqual([])
          yield* expectSound
        })
      )
    )

    it.effect("audit(name) filters by model and keeps sequence order", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("a"))
          yield* r.promote(promoteInput("b"))
          yield* r.promote(promoteInput("a"))
          expect((yield* r.audit("a")).map((x) => x.seq)).toEqual([1, 2, 3, 7, 8, 9])
          expect((yield* r.audit("b")).map((x) => x.seq)).toEqual([4, 5, 6])
          expect((yield* r.listModels()).map((m) => m.name)).toEqual(["a", "b"])
          expect(Option.isNone(yield* r.getVersion("a", 3))).toBe(true)
          expect(Option.getOrThrow(yield* r.getVersion("a", 2)).stage).toBe("Production")
          yield* expectSound
        })
      )
    )

    it.effect("tampering with a stored audit record is detected", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* r.promote(promoteInput("iris"))
          expect((yield* r.verify()).ok).toBe(true)
          yield* (yield* Tamper).rewriteReason(2, "nobody approved this")
          const verdict = yield* r.verify()
          expect(verdict.ok).toBe(false)
          expect(verdict.problems).toEqual(["record 2 was modified after it was written (hash mismatch)"])
        })
      )
    )

    if (impl.sqlite) {
      it.effect("the database itself refuses a second Production row and any change to audit_log", () =>
        run(
          Effect.gen(function* () {
            const r = yield* Registry
            yield* r.promote(promoteInput("iris"))
            yield* r.promote(promoteInput("iris"))
            const sql = yield* SqliteDatabase
            const refused = (stmt: string) =>
              Effect.map(Effect.flip(sql.query("raw", (db) => db.exec(stmt))), (e) => e.message)
            expect(yield* refused("UPDATE model_versions SET stage = 'Production' WHERE version = 1")).toContain(
              "UNIQUE"
            )
            expect(yield* refused("UPDATE audit_log SET reason = 'x' WHERE seq = 1")).toContain("append-only")
            expect(yield* refused("DELETE FROM audit_log WHERE seq = 6")).toContain("append-only")
            expect(yield* refused("UPDATE model_versions SET stage = 'Live' WHERE version = 1")).toContain("CHECK")
            yield* expectSound
          })
        )
      )
    }
  })
}

describe("RegistrySqlite on a store file", () => {
  it.effect("survives closing and reopening; the chain links across sessions", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-"))
      dirs.push(dir)
      const path = join(dir, "store.db")
      yield* Effect.provide(
        Effect.flatMap(Registry, (r) => r.promote(promoteInput("iris"))),
        sqliteRegistry(path)
      )
      const audit = yield* Effect.provide(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris"))
          yield* expectSound
          return yield* r.audit()
        }),
        sqliteRegistry(path)
      )
      expect(verifyChain(audit).ok).toBe(true)
      expect(audit.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6])
    })
  )
})
