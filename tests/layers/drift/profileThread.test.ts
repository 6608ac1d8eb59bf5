import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import type { Frame } from "../../../src/domain/table.js"
import { DriftDetectorTabular, profilesBuiltOnThread } from "../../../src/layers/drift/DriftDetectorTabular.js"
import { DriftDetector } from "../../../src/services/DriftDetector.js"
import { rng } from "../../../src/domain/random.js"

// Preprocessing begins a large train split's reference profile on a thread of its own (startProfile), so
// that it is built beside the transforms; it must be the profile the calling thread builds.

const rows = 120_000
const r = rng(7)
const frame: Frame = {
  rows,
  columns: [
    {
      name: "x",
      dtype: "float",
      values: Float64Array.from({ length: rows }, (_, i) => (i % 997 === 0 ? NaN : r.next() * 100 - 50))
    },
    { name: "k", dtype: "int", values: Float64Array.from({ length: rows }, () => Math.floor(r.next() * 5)) },
    {
      name: "c",
      dtype: "string",
      values: Array.from({ length: rows }, (_, i) => (i % 13 === 0 ? null : ["a", "b", "c"][i % 3]!))
    }
  ]
}
const run = <A, E>(e: Effect.Effect<A, E, DriftDetector>) =>
  Effect.runPromiseExit(e.pipe(Effect.provide(DriftDetectorTabular)))

describe("startProfile on a large frame", () => {
  it("gives the calling thread's profile", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const detector = yield* DriftDetector
        const here = yield* detector.profile(frame, 42)
        const before = profilesBuiltOnThread()
        const there = yield* yield* detector.startProfile(frame, 42)
        expect(profilesBuiltOnThread()).toBe(before + 1)
        return { here, there }
      })
    )
    if (!Exit.isSuccess(exit)) throw new Error(String(exit))
    expect(JSON.stringify(exit.value.there)).toBe(JSON.stringify(exit.value.here))
    expect(exit.value.here.rows).toBe(rows)
  }, 60_000)

  it("reports the profile's own error as on the calling thread", async () => {
    const bad: Frame = {
      rows,
      columns: [...frame.columns, { name: "short", dtype: "float", values: new Float64Array(10) }]
    }
    const here = await run(Effect.flatMap(DriftDetector, (d) => d.profile(bad, 1)))
    const there = await run(Effect.flatMap(DriftDetector, (d) => Effect.flatten(d.startProfile(bad, 1))))
    expect(Exit.isFailure(here) && Exit.isFailure(there)).toBe(true)
    expect(JSON.stringify(there)).toBe(JSON.stringify(here))
  }, 60_000)
})
