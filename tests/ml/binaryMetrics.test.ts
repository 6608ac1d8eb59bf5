import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { Either } from "effect"
import { decodeDatasetSpec } from "../../src/domain/dataset.js"
import { classificationMetrics } from "../../src/ml/metrics.js"
import { positiveClassIndex } from "../../src/programs/scoring.js"

// Expected values: scikit-learn, by tests/ml/binary_metrics_reference.py (committed beside its output).
interface Case {
  readonly name: string
  readonly label_classes: ReadonlyArray<string>
  readonly y_true: ReadonlyArray<string>
  readonly y_pred: ReadonlyArray<string>
  readonly default_positive: string
  readonly precision: number
  readonly recall: number
  readonly declared_positive: string
  readonly precision_declared: number
  readonly recall_declared: number
  readonly precision_weighted: number
  readonly recall_weighted: number
}
const reference = JSON.parse(fs.readFileSync(path.join(__dirname, "binary_metrics_reference.json"), "utf8")) as {
  readonly cases: ReadonlyArray<Case>
}

describe("binary precision/recall mean the positive class, as scikit-learn's defaults", () => {
  for (const c of reference.cases) {
    // Class indices in label_classes order (driftgate's order when dataset.yaml lists them), not sorted.
    const index = (labels: ReadonlyArray<string>) => labels.map((l) => c.label_classes.indexOf(l))
    const yt = index(c.y_true)
    const yp = index(c.y_pred)

    it(`${c.name}: default positive = the second of the sorted labels (${c.default_positive})`, () => {
      const positive = positiveClassIndex(c.label_classes)
      expect(c.label_classes[positive!]).toBe(c.default_positive)
      const m = classificationMetrics(yt, yp, undefined, 2, positive)
      expect(m.precision).toBeCloseTo(c.precision, 14)
      expect(m.recall).toBeCloseTo(c.recall, 14)
      // The averages keep their qualified names.
      expect(m.precision_weighted).toBeCloseTo(c.precision_weighted, 14)
      expect(m.recall_weighted).toBeCloseTo(c.recall_weighted, 14)
      expect(m.precision).not.toBeCloseTo(m.precision_weighted!, 6)
    })

    it(`${c.name}: positive_class declared in dataset.yaml (${c.declared_positive})`, () => {
      const positive = positiveClassIndex(c.label_classes, c.declared_positive)
      const m = classificationMetrics(yt, yp, undefined, 2, positive)
      expect(m.precision).toBeCloseTo(c.precision_declared, 14)
      expect(m.recall).toBeCloseTo(c.recall_declared, 14)
    })
  }

  it("more than two classes: no positive class; precision/recall stay the weighted averages", () => {
    expect(positiveClassIndex(["a", "b", "c"])).toBeUndefined()
    const m = classificationMetrics([0, 1, 2, 2], [0, 2, 2, 1], undefined, 3)
    expect(m.precision).toBe(m.precision_weighted)
  })

  it("dataset.yaml: a positive_class that is not one of label_classes is a config error naming the key", () => {
    const spec = {
      name: "t",
      task_type: "classification",
      target: "y",
      features: ["x"],
      schema: { x: "float", y: "string" },
      constraints: { label_classes: ["yes", "no"] },
      positive_class: "maybe"
    }
    const r = decodeDatasetSpec(spec, "dataset.yaml")
    expect(Either.isLeft(r) && r.left.key).toBe("positive_class")
    expect(Either.isRight(decodeDatasetSpec({ ...spec, positive_class: "no" }, "dataset.yaml"))).toBe(true)
  })
})

describe("a diverged model's NaN probabilities", () => {
  it("give NaN roc_auc and log_loss, not a crash of the evaluation (the gate decides on them)", () => {
    const y = Float64Array.from([1, 0, 1, 0])
    const proba = Float64Array.from([0.8, 0.2, NaN, NaN, 0.1, 0.9, 0.9, 0.1])
    const m = classificationMetrics(y, Float64Array.from([0, 0, 1, 0]), proba, 2, 1)
    expect(m.roc_auc).toBeNaN()
    expect(m.log_loss).toBeNaN()
    expect(m.accuracy).toBe(0.75)
  })
})
