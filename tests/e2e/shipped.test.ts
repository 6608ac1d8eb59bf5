import { createHash } from "node:crypto"
import * as fs from "node:fs"
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
    it(`${config}: dataset version = SHA-256 of the CSV bytes; trains, evaluates and passes its rules`, () => {
      const r = cli(["run", "--config", `configs/${config}`, "--workspace", ws, "--approve", "auto", "--json"])
      expect(r.code, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout)
      // Computed here with node's crypto (not GNU sha256sum), so the suite runs on macOS too.
      const sum = createHash("sha256")
        .update(fs.readFileSync(path.join(root, "data/raw", dataset, "data.csv")))
        .digest("hex")
      expect(out.dataset.version).toBe(sum)
      expect(out.dataset.validation).toBe("passed")
      expect(out.stages.find((s: { name: string }) => s.name === "training").result.model).toBe(model)
      expect(out.stages.find((s: { name: string }) => s.name === "promotion").status).toBe("completed")
    })
  }
})
