import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Registry } from "../../src/services/Registry.js"
import { promoteConcurrently, registryProblems, sqliteRegistry } from "./registry-crash-support.js"

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe("RegistrySqlite shared by several processes", () => {
  it("concurrent promotions of one model: every version registered once, exactly one in Production, one unforked chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-conc-"))
    dirs.push(dir)
    const path = join(dir, "store.db")
    // Three processes, 24 promotions of the same model, all released at once on a fresh store
    // (so they also race to apply the migrations).
    const got = await promoteConcurrently(path, "shared", [8, 8, 8])
    expect(got.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1))
    for (const versions of got) expect(versions).toEqual([...versions].sort((a, b) => a - b))

    const state = await Effect.runPromise(
      Effect.gen(function* () {
        const r = yield* Registry
        return {
          problems: yield* registryProblems,
          versions: yield* r.listVersions("shared"),
          audit: yield* r.audit(),
          verdict: yield* r.verify()
        }
      }).pipe(Effect.provide(sqliteRegistry(path)))
    )
    expect(state.problems).toEqual([])
    expect(state.verdict).toEqual({ ok: true, records: 72, problems: [] })
    expect(state.versions.map((v) => v.version)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1))
    // The last committed promotion holds Production and the champion alias; every other is Archived.
    expect(state.versions.filter((v) => v.stage === "Production").map((v) => [v.version, v.aliases])).toEqual([
      [24, ["champion"]]
    ])
    expect(state.versions.filter((v) => v.stage === "Archived")).toHaveLength(23)
    const counts = new Map<string, number>()
    for (const r of state.audit) counts.set(r.action, (counts.get(r.action) ?? 0) + 1)
    expect(Object.fromEntries(counts)).toEqual({ create_model: 1, promote: 24, transition: 23, set_alias: 24 })
    // Each process's records went in under its own actor: the writers really were different processes.
    expect(new Set(state.audit.filter((r) => r.action === "promote").map((r) => r.actor)).size).toBe(3)
  })
})
