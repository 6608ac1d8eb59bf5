import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import { evaluateRules } from "../../src/domain/rules.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { root } from "./helpers.js"

// The figures the shipped fashion_mnist model measured (configs/fashion_mnist.yaml's comment says
// where they come from): the shipped gate passes them and blocks a model materially less robust.
const measured = { accuracy: 0.8278, robustness_max_drop: 0.5222, robustness_mean_drop: 0.1404 }

describe("configs/fashion_mnist.yaml: the robustness gate can block", () => {
  it.effect("passes the measured model, blocks one 0.06 worse on its worst perturbation or on average", () =>
    Effect.gen(function* () {
      const { config } = yield* loadConfig(path.join(root, "configs/fashion_mnist.yaml"))
      const rules = config.promotion.rules!
      const failing = (val: Record<string, number>) =>
        evaluateRules(rules, "val", { val }, null)
          .filter((o) => !o.passed)
          .map((o) => o.id)
      expect(failing(measured)).toEqual([])
      expect(failing({ ...measured, robustness_max_drop: measured.robustness_max_drop + 0.06 })).toEqual([
        "robust_worst"
      ])
      expect(failing({ ...measured, robustness_mean_drop: measured.robustness_mean_drop + 0.06 })).toEqual([
        "robust_mean"
      ])
      expect(failing({ ...measured, accuracy: measured.accuracy - 0.1 })).toEqual(["min_accuracy"])
    }).pipe(Effect.provide(testLayer()))
  )
})
