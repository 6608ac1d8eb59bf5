import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, Option } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ArtifactFile, artifactFileOf } from "../../src/domain/artifacts.js"
import { describeError, exitCodeOf } from "../../src/domain/describe.js"
import { RegistryMemory } from "../../src/layers/registry/RegistryMemory.js"
import { SqliteDatabase } from "../../src/layers/sqlite/SqliteDatabase.js"
import { Registry } from "../../src/services/Registry.js"
import { promoteInput, registryProblems, sqliteRegistry } from "./registry-crash-support.js"

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const tempStore = () => {
  const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-integrity-"))
  dirs.push(dir)
  return { dir, path: join(dir, "store.db") }
}

const files: ReadonlyArray<ArtifactFile> = [
  artifactFileOf("transform.json", new TextEncoder().encode('{"steps":[]}\n')),
  artifactFileOf("model.json", new TextEncoder().encode('{"kind":"random_forest"}')),
  artifactFileOf("metadata.json", new TextEncoder().encode("{}\n"))
]

const implementations: ReadonlyArray<{ name: string; layer: () => Layer.Layer<Registry, unknown> }> = [
  { name: "RegistrySqlite", layer: () => sqliteRegistry(tempStore().path) },
  { name: "RegistryMemory", layer: () => RegistryMemory }
]

for (const impl of implementations) {
  describe(`${impl.name}: recorded files and compare-and-set`, () => {
    const run = <A, E>(body: Effect.Effect<A, E, Registry>) =>
      Effect.provide(body, impl.layer() as Layer.Layer<Registry>)

    it.effect("promote records the files in the same transaction and in the hash-chained promote record", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          const v = yield* r.promote(promoteInput("iris", { files }))
          const recorded = Option.getOrThrow(yield* r.artifactFiles("iris", v.version))
          expect(recorded).toEqual([...files].sort((a, b) => (a.file < b.file ? -1 : 1)))
          const promote = (yield* r.audit("iris")).find((x) => x.action === "promote")!
          expect(promote.details["files"]).toEqual(Object.fromEntries(files.map((f) => [f.file, f.sha256])))
          // Without files a version is registered unverifiable, and says so.
          const old = yield* r.promote(promoteInput("iris"))
          expect(Option.isNone(yield* r.artifactFiles("iris", old.version))).toBe(true)
          expect(yield* registryProblems).toEqual([])
        })
      )
    )

    it.effect("files with a bad digest, a path or a duplicate name are refused and nothing is written", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          for (const bad of [
            [{ file: "model.json", sha256: "abc", bytes: 1 }],
            [{ ...files[0]!, file: "../model.json" }],
            [files[0]!, files[0]!]
          ]) {
            const e = yield* Effect.flip(r.promote(promoteInput("iris", { files: bad })))
            expect(e._tag).toBe("RegistryError")
          }
          expect(yield* r.audit()).toEqual([])
        })
      )
    )

    it.effect("a promotion compared with another Production version is refused (exit 2) and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const r = yield* Registry
          yield* r.promote(promoteInput("iris", { comparedWith: null }))
          const before = yield* r.audit()
          // Compared when there was no Production; version 1 is Production now.
          const stale = promoteInput("iris", { comparedWith: null })
          const e = yield* Effect.flip(r.promote(stale))
          expect(e._tag).toBe("StaleComparison")
          expect(exitCodeOf(e as never)).toBe(2)
          expect(describeError(e as never)).toContain(
            `run ${stale.runId} was compared with no Production version but Production is now version 1`
          )
          expect(yield* r.audit()).toEqual(before)
          const ok = yield* r.promote(promoteInput("iris", { comparedWith: 1 }))
          expect(ok.version).toBe(2)
          expect((yield* r.audit()).find((x) => x.action === "promote" && x.version === 2)?.details).toMatchObject({
            compared_with: 1
          })
        })
      )
    )

    it.effect(
      "a rollback intent records what it replaces; begun or completed after Production moved, it is refused",
      () =>
        run(
          Effect.gen(function* () {
            const r = yield* Registry
            yield* r.promote(promoteInput("iris"))
            yield* r.promote(promoteInput("iris"))
            // The operator saw version 1 in Production; it is version 2.
            const e = yield* Effect.flip(
              r.beginRollback({ name: "iris", toVersion: 1, reason: "drill", actor: "oncall", replacing: 1 })
            )
            expect(e._tag).toBe("StaleComparison")
            expect(yield* r.pendingRollbacks()).toEqual([])
            const intent = yield* r.beginRollback({
              name: "iris",
              toVersion: 1,
              reason: "drill",
              actor: "oncall",
              replacing: 2
            })
            expect(intent.fromVersion).toBe(2)
            yield* r.promote(promoteInput("iris")) // version 3 while the intent is pending
            const before = yield* r.listVersions("iris")
            const stale = yield* Effect.flip(r.completeRollback(intent.id))
            expect(stale._tag).toBe("StaleComparison")
            expect(describeError(stale as never)).toContain(
              `intent ${intent.id} replaces version 2 but Production is now version 3`
            )
            expect(yield* r.listVersions("iris")).toEqual(before)
            expect((yield* r.pendingRollbacks()).map((i) => i.id)).toEqual([intent.id])
            yield* r.abandonRollback(intent.id, "Production moved", "oncall")
            expect(yield* registryProblems).toEqual([])
          })
        )
    )
  })
}

describe("RegistrySqlite: the chain's anchor outside the database", () => {
  it.effect("audit-head follows every change; a removed tail or a rewritten record is reported by inspectStore", () =>
    Effect.gen(function* () {
      const { dir, path } = tempStore()
      const head = () => JSON.parse(readFileSync(join(dir, "audit-head"), "utf8")) as { seq: number; hash: string }
      yield* Effect.gen(function* () {
        const r = yield* Registry
        expect(existsSync(join(dir, "audit-head"))).toBe(false)
        yield* r.promote(promoteInput("iris", { files }))
        const last = (yield* r.audit()).at(-1)!
        expect(head()).toMatchObject({ seq: last.seq, hash: last.hash })
        yield* r.record({
          actor: "reviewer",
          action: "cancelled",
          model: "iris",
          version: null,
          fromStage: null,
          toStage: null,
          reason: "later",
          details: {}
        })
        const cancelled = (yield* r.audit()).at(-1)!
        expect(head()).toMatchObject({ seq: cancelled.seq, hash: cancelled.hash })
        expect(yield* r.inspectStore()).toMatchObject({ problems: [], notes: [] })

        // Cut the tail behind the registry's back: the chain alone still verifies, the anchor does not.
        const sql = yield* SqliteDatabase
        yield* sql.query("tamper", (db) => {
          db.exec("DROP TRIGGER audit_log_no_delete")
          db.prepare("DELETE FROM audit_log WHERE seq = ?").run(cancelled.seq)
        })
        expect((yield* r.verify()).ok).toBe(true)
        expect((yield* r.inspectStore()).problems).toEqual([
          `${join(dir, "audit-head")} records audit record ${cancelled.seq}, but the audit log ends at record ${cancelled.seq - 1}: the tail of the log was removed`
        ])
      }).pipe(Effect.provide(sqliteRegistry(path)))
    })
  )
})
