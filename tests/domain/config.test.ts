import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { configHash, decodePipelineConfig } from "../../src/domain/config.js"
import { parseYaml } from "../../src/programs/loadConfig.js"

const base = `
name: demo
task_type: classification
dataset: iris
training: { model: random_forest, params: { n_estimators: 10 } }
`
const decode = (text: string) => {
  const raw = parseYaml(text, "demo.yaml")
  if (Either.isLeft(raw)) return raw
  return decodePipelineConfig(raw.right, "demo.yaml")
}
const ok = (text: string) => {
  const r = decode(text)
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const err = (text: string) => {
  const r = decode(text)
  if (Either.isRight(r)) throw new Error("expected a ConfigError")
  return r.left
}

describe("pipeline config", () => {
  it("fills defaults so the hash covers them", () => {
    const c = ok(base)
    expect(c.random_seed).toBe(42)
    expect(c.split).toEqual({ train: 0.7, val: 0.15, test: 0.15, stratify: true })
    expect(c.training?.params).toMatchObject({ n_estimators: 10, bootstrap: true, min_samples_leaf: 1 })
    expect(c.stages).toEqual(["preprocessing", "training", "evaluation", "promotion", "deployment"])
  })

  it("names an unknown top-level key and suggests the right one", () => {
    const e = err(base + "trainning: {}\n")
    expect(e.file).toBe("demo.yaml")
    expect(e.key).toBe("trainning")
    expect(e.message).toContain(`unknown key "trainning"`)
    expect(e.message).toContain(`did you mean "training"`)
  })

  it("names an unknown nested key with its full path", () => {
    const e = err(base + "split: { train: 0.8, val: 0.2, tset: 0 }\n")
    expect(e.key).toBe("split.tset")
    expect(e.message).toContain(`"test"`)
  })

  it("checks training params against the model kind's own schema", () => {
    const e = err(base.replace("n_estimators: 10", "n_estimatorz: 10"))
    expect(e.key).toBe("training.params.n_estimatorz")
    expect(e.message).toContain(`did you mean "n_estimators"`)
    const wrongType = err(base.replace("n_estimators: 10", "n_estimators: many"))
    expect(wrongType.key).toBe("training.params.n_estimators")
  })

  it("rejects split fractions that do not sum to 1", () => {
    expect(err(base + "split: { train: 0.6, val: 0.2, test: 0.3 }\n").message).toContain("sum to 1")
  })

  it("rejects dataset names that escape data_root", () => {
    for (const name of ["../../etc", "a/b", "..", ".hidden", "a\\\\b"]) {
      const e = err(base.replace("dataset: iris", `dataset: "${name}"`))
      expect(e.key).toBe("dataset")
    }
  })

  it("reports YAML syntax errors with line and column", () => {
    const e = err("name: x\nsplit: { train: 0.5\ndataset: iris\n")
    expect(e.message).toMatch(/YAML syntax error at line \d+, column \d+/)
  })

  it("rejects a key given twice", () => {
    expect(err(base + "dataset: wine\n").message).toContain("a key appears twice")
  })

  it("hashes the decoded config: comments and key order do not matter, values do", () => {
    const a = ok(base)
    const b = ok(
      `# a comment\ntraining: { params: { n_estimators: 10 }, model: random_forest }\ndataset: iris\ntask_type: classification\nname: demo\n`
    )
    expect(configHash(a)).toBe(configHash(b))
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/)
    const c = ok(base.replace("n_estimators: 10", "n_estimators: 11"))
    expect(configHash(c)).not.toBe(configHash(a))
    // Writing a default explicitly gives the same decoded config, so the same hash.
    expect(configHash(ok(base + "random_seed: 42\n"))).toBe(configHash(a))
  })

  it("rejects promotion rules with duplicate ids and unknown operators", () => {
    const rules = `promotion:\n  rules:\n    - { id: a, metric: accuracy, operator: ">=", threshold: 0.8 }\n    - { id: a, metric: f1_weighted, operator: ">=", threshold: 0.8 }\n`
    expect(err(base + rules).key).toBe("promotion.rules[1].id")
    expect(
      err(base + `promotion:\n  rules:\n    - { id: a, metric: accuracy, operator: "=>", threshold: 0.8 }\n`).key
    ).toMatch(/^promotion\.rules\[0\]/)
  })
})

describe("model kind vs task type", () => {
  it("rejects a model that cannot do the task, naming training.model", () => {
    const e = err(
      base.replace("random_forest", "linear_regression").replace("params: { n_estimators: 10 }", "params: {}")
    )
    expect(e.key).toBe("training.model")
    expect(e.message).toContain("linear_regression cannot do classification")
  })
})

describe("image-only sections", () => {
  it("a model_analysis section on a tabular pipeline is an error naming it", () => {
    const e = err(base + "model_analysis: { severity: { high: 0.2, medium: 0.1 } }\n")
    expect(e.key).toBe("model_analysis")
  })
})
