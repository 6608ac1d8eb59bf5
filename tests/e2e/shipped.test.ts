import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cli, root, tempWorkspace } from "./helpers.js"

describe("the shipped configs", () => {
  const ws = tempWorkspace()
  for (const [config, dataset, model] of [
    ["breast_cancer.yaml", "breast_cancer", "random_forest"],
    ["iris.yaml", "iris", "logistic_regression"],
    ["wine.yaml", "wine", "hist_gradient_boosting"],
    ["california_housing.yaml", "california_housing", "hist_gradient_boosting"]
  ] as const) {
    it(`${config}: dataset version = sha256sum of the CSV; trains, evaluates and passes its rules`, () => {
      const r = cli(["run", "--config", `configs/${config}`, "--workspace", ws, "--approve", "auto", "--json"])
      expect(r.code, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout)
      const sum = execFileSync("sha256sum", [path.join(root, "data/raw", dataset, "data.csv")])
        .toString()
        .split(" ")[0]
      expect(out.dataset.version).toBe(sum)
      expect(out.dataset.validation).toBe("passed")
      expect(out.stages.find((s: { name: string }) => s.name === "training").result.model).toBe(model)
      expect(out.stages.find((s: { name: string }) => s.name === "promotion").status).toBe("completed")
    })
  }
})
