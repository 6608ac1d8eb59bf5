import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { evaluateRules } from "../../src/domain/rules.js"
import { testLayer } from "../../src/layers/test.js"
import { loadConfig } from "../../src/programs/loadConfig.js"
import { root } from "./helpers.js"

// The figures the shipped fashion_mnist pipeline measured over several seeds, written by
// `node scripts/gate-thresholds.mjs --seeds 1,2,3,4,5,42 --out tests/programs/fashion_mnist_gate.json`
// (configs/fashion_mnist.yaml's comment says so): the shipped gate passes every seed and blocks a
// model materially less robust or accurate than the worst of them.
interface Gate {
  readonly measured: ReadonlyArray<{ seed: number; accuracy: number; max_drop: number; mean_drop: number }>
  readonly thresholds: { min_accuracy: number; robust_worst: number; robust_mean: number }
}
const gate = JSON.parse(readFileSync(path.join(__dirname, "fashion_mnist_gate.json"), "utf8")) as Gate

describe("configs/fashion_mnist.yaml: the robustness gate comes from measured seeds and can block", () => {
  it.effect("passes every measured seed, blocks a model 0.06 worse than the worst seed on each figure", () =>
    Effect.gen(function* () {
      const { config } = yield* loadConfig(path.join(root, "configs/fashion_mnist.yaml"))
      const rules = config.promotion.rules!
      const threshold = (id: string) => {
        const rule = rules.find((r) => r.id === id)
        return rule !== undefined && "threshold" in rule ? rule.threshold : undefined
      }
      expect(threshold("min_accuracy")).toBe(gate.thresholds.min_accuracy)
      expect(threshold("robust_worst")).toBe(gate.thresholds.robust_worst)
      expect(threshold("robust_mean")).toBe(gate.thresholds.robust_mean)

      const failing = (val: Record<string, number>) =>
        evaluateRules(rules, "val", { val }, null)
          .filter((o) => !o.passed)
          .map((o) => o.id)
      const figures = (m: Gate["measured"][number]) => ({
        accuracy: m.accuracy,
        robustness_max_drop: m.max_drop,
        robustness_mean_drop: m.mean_drop
      })
      expect(gate.measured.length).toBeGreaterThanOrEqual(5)
      for (const m of gate.measured) expect(failing(figures(m))).toEqual([])

      const worst = {
        accuracy: Math.min(...gate.measured.map((m) => m.accuracy)),
        robustness_max_drop: Math.max(...gate.measured.map((m) => m.max_drop)),
        robustness_mean_drop: Math.max(...gate.measured.map((m) => m.mean_drop))
      }
      expect(failing({ ...worst, robustness_max_drop: worst.robustness_max_drop + 0.06 })).toEqual(["robust_worst"])
      expect(failing({ ...worst, robustness_mean_drop: worst.robustness_mean_drop + 0.06 })).toEqual(["robust_mean"])
      expect(failing({ ...worst, accuracy: worst.accuracy - 0.06 })).toEqual(["min_accuracy"])
    }).pipe(Effect.provide(testLayer()))
  )
})
