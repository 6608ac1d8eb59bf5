import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as path from "node:path"
import { parse } from "yaml"
import * as fs from "node:fs"
import { describeError, exitCodeOf } from "../../src/domain/describe.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { prepareData } from "../../src/programs/prepareData.js"

const root = path.resolve(__dirname, "../..")
const irisConfig = path.join(root, "configs/iris.yaml")
/** What the committed dataset.yaml says (read here, not repeated as literals). */
const irisSpec = parse(fs.readFileSync(path.join(root, "data/raw/iris/dataset.yaml"), "utf8")) as {
  target: string
  task_type: "classification" | "regression"
}

const prepare = (extra: { target?: string; task?: "classification" | "regression" }) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(irisConfig)
    return yield* prepareData({ config: loaded.config, configDir: loaded.dir, ...extra })
  })

describe("--target/--task when dataset.yaml already exists (issue #12 item 6)", () => {
  it.effect("a --target that disagrees is a usage error naming both values", () =>
    Effect.gen(function* () {
      const other = "sepal_length_cm"
      expect(other).not.toBe(irisSpec.target)
      const r = yield* Effect.either(prepare({ target: other }))
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) {
        expect(exitCodeOf(r.left)).toBe(64)
        const text = describeError(r.left)
        expect(text).toContain(`--target ${other}`)
        expect(text).toContain(`target: ${irisSpec.target}`)
        expect(text).toContain("dataset.yaml")
      }
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("a --task that disagrees is a usage error naming both values", () =>
    Effect.gen(function* () {
      const other = irisSpec.task_type === "classification" ? "regression" : "classification"
      const r = yield* Effect.either(prepare({ task: other }))
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) {
        expect(exitCodeOf(r.left)).toBe(64)
        const text = describeError(r.left)
        expect(text).toContain(`--task ${other}`)
        expect(text).toContain(`task_type: ${irisSpec.task_type}`)
      }
    }).pipe(Effect.provide(testLayer()))
  )

  it.effect("flags that agree with dataset.yaml are fine", () =>
    Effect.gen(function* () {
      const p = yield* prepare({ target: irisSpec.target, task: irisSpec.task_type })
      expect(p.spec.target).toBe(irisSpec.target)
      expect(p.rows).toBeGreaterThan(0)
    }).pipe(Effect.provide(testLayer()))
  )
})
