import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { encodeTable, joinParts } from "../../src/domain/arrowIpc.js"
import type { ColumnTable } from "../../src/domain/columnTable.js"
import { makeStorageMemory } from "../../src/layers/storage/StorageMemory.js"
import { forgetHandOvers, handOverTable, takeTable } from "../../src/programs/tableCache.js"
import { readPreprocessed } from "../../src/programs/trainStage.js"
import { Storage } from "../../src/services/Storage.js"

// Preprocessing hands the splits it has just written to training and evaluation in memory instead of
// their reading the files back (a million-row train split is 60 MB to read and decode).

const table: ColumnTable = {
  rows: 4,
  columns: [
    { name: "a", dtype: "float", values: Float64Array.from([1.5, NaN, -0, 3]) },
    { name: "b", dtype: "float", values: Float64Array.from([10, 20, 30, 40]) },
    { name: "label", dtype: "string", codes: Int32Array.from([1, 0, -1, 1]), dictionary: ["no", "yes"] }
  ]
}
const key = "datasets/t/v/preprocessed/s/h/train.arrow"
const run = <A, E>(effect: Effect.Effect<A, E, Storage>) =>
  Effect.runPromiseExit(effect.pipe(Effect.provide(Layer.sync(Storage, makeStorageMemory))))

describe("preprocessed splits handed over in memory", () => {
  it("give the same matrix and labels as the file they were written to", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const storage = yield* Storage
        yield* storage.write(key, joinParts(encodeTable(table, { target: "label" })))
        const fromFile = yield* readPreprocessed(key, ["no", "yes"])
        handOverTable(storage, storage.locate(key), table)
        const handed = yield* readPreprocessed(key, ["no", "yes"])
        return { fromFile, handed }
      })
    )
    if (!Exit.isSuccess(exit)) throw new Error(String(exit))
    const { fromFile, handed } = exit.value
    expect(Array.from(handed.x.data)).toEqual(Array.from(fromFile.x.data))
    expect(Object.is(handed.x.data[4], -0)).toBe(true) // row 2 of column a
    expect(Array.from(handed.y)).toEqual(Array.from(fromFile.y))
    expect(Array.from(handed.y)).toEqual([1, 0, NaN, 1])
    expect(handed.featureNames).toEqual(["a", "b"])
  })

  it("are taken once: the next read is the file's, so a damaged file is still reported", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const storage = yield* Storage
        yield* storage.write(key, "not an arrow file")
        handOverTable(storage, storage.locate(key), table)
        const first = yield* readPreprocessed(key, ["no", "yes"])
        expect(first.x.rows).toBe(4)
        return yield* readPreprocessed(key, ["no", "yes"])
      })
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("arrow_file")
  })
})

describe("the hand-over is per store and per run", () => {
  it("another store (in-memory stores share locations) does not see it, and a run's end drops what was not taken", () => {
    const a = {}
    const b = {}
    handOverTable(a, "memory://x.arrow", table)
    expect(takeTable(b, "memory://x.arrow")).toBeUndefined()
    forgetHandOvers(a)
    expect(takeTable(a, "memory://x.arrow")).toBeUndefined()
    handOverTable(a, "memory://x.arrow", table)
    expect(takeTable(a, "memory://x.arrow")).toBe(table)
    expect(takeTable(a, "memory://x.arrow")).toBeUndefined()
  })
})
