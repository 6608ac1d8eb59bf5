import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import { testLayer } from "../../src/layers/test.js"
import { promoteRun } from "../../src/programs/promoteRun.js"
import { root, runConfig } from "./helpers.js"

const approve = { outcome: "approved" as const, by: "user:test", reason: "ok" }

/** A dataset folder holding breast_cancer with some columns scaled (a drifted source), and a config on it. */
const drifted = (scale: number, stages: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dg-driftrule-"))
  fs.mkdirSync(path.join(dir, "breast_cancer"))
  const rows = parse(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8")) as string[][]
  const header = rows[0]!
  const out = rows
    .slice(1)
    .map((r) => r.map((v, j) => (header[j]!.startsWith("mean_") ? String(Number(v) * scale) : v)))
  fs.writeFileSync(path.join(dir, "breast_cancer/data.csv"), stringify([header, ...out]))
  fs.copyFileSync(path.join(root, "data/raw/breast_cancer/dataset.yaml"), path.join(dir, "breast_cancer/dataset.yaml"))
  const config = fs
    .readFileSync(path.join(root, "configs/breast_cancer.yaml"), "utf8")
    .replace(
      "    - { id: no_regression, metric: accuracy, relative_to: production, max_drop: 0.01 }",
      "    - { id: val_not_drifted, drift: validation_vs_production_reference, max_severity: low }"
    )
    .replace(/stages: \[.*\]/, `stages: [${stages}]`)
  const file = path.join(dir, "config.yaml")
  fs.writeFileSync(file, `data_root: ${dir}\n${config}`)
  return file
}

describe("drift promotion rule", () => {
  it.effect(
    "blocks a candidate whose validation data drifted against the deployed reference, in run and in promote --run",
    () =>
      Effect.gen(function* () {
        const all = "preprocessing, training, evaluation, promotion, deployment"
        const first = yield* runConfig(drifted(1, all))
        expect(first.status).toBe("completed") // nothing deployed yet: the rule is skipped
        const blocked = yield* runConfig(drifted(1.5, all))
        expect(blocked.status).toBe("blocked")
        if (blocked.error?._tag === "PromotionBlocked")
          expect(blocked.error.failures.map((f) => f.id)).toEqual(["val_not_drifted"])
        const later = yield* runConfig(drifted(1.5, "preprocessing, training, evaluation"))
        expect(later.status).toBe("completed")
        const promoted = yield* Effect.either(promoteRun(later.runId))
        expect(promoted._tag === "Left" && promoted.left._tag).toBe("PromotionBlocked")
      }).pipe(Effect.provide(testLayer({ decisions: [approve, approve, approve] }))),
    120_000
  )
})
