import { parse } from "csv-parse/sync"
import { stringify } from "csv-stringify/sync"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cli, root, tempWorkspace } from "./helpers.js"

describe("the drift loop through the CLI on breast_cancer", () => {
  it("promote → monitor a shifted batch → stage labelled drift → retrain with before/after → unstage", () => {
    const ws = tempWorkspace()
    const rows = parse(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8")) as string[][]
    const header = rows[0]!
    const shifted = (labelled: boolean) => {
      const cols = labelled ? header : header.filter((h) => h !== "diagnosis")
      const body = rows
        .slice(1)
        .filter((_, i) => i % 3 === 0)
        .map((r) =>
          cols.map((c) => {
            const v = r[header.indexOf(c)]!
            return c.startsWith("mean_") || c.startsWith("worst_") ? String(Number(v) * 1.4) : v
          })
        )
      const file = path.join(ws, labelled ? "labelled.csv" : "batch.csv")
      fs.writeFileSync(file, stringify([cols, ...body]))
      return file
    }
    const config = "configs/breast_cancer.yaml"
    expect(cli(["run", "--config", config, "--approve", "auto", "--workspace", ws]).code).toBe(0)

    const m = cli(["drift", "monitor", "--config", config, "--batch", shifted(false), "--workspace", ws, "--json"])
    expect(m.code, m.stderr).toBe(2) // headless CI gate: severity high ≥ fail_on_severity high
    const report = JSON.parse(m.stdout)
    expect(report.severity).toBe("high")
    expect(fs.existsSync(report.files.json)).toBe(true)
    expect(fs.readFileSync(report.files.html, "utf8")).toContain("Drift report: breast-cancer version 1")
    expect(m.stderr).toContain("fail_on_severity high")

    const summary = JSON.parse(cli(["drift", "summary", "--config", config, "--workspace", ws, "--json"]).stdout)
    expect(summary.checks).toHaveLength(1)

    const st = cli([
      "drift",
      "stage-training",
      "--config",
      config,
      "--batch",
      shifted(true),
      "--holdout",
      "0.3",
      "--workspace",
      ws,
      "--json"
    ])
    expect(st.code, st.stderr).toBe(0)
    const staging = JSON.parse(st.stdout)

    const r = cli(["run", "--config", config, "--approve", "auto", "--workspace", ws, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const run = JSON.parse(r.stdout)
    expect(run.dataset.version).toBe(staging.merged_version)
    const evaluation = JSON.parse(
      fs.readFileSync(path.join(ws, "reports", run.run_id, "evaluation_report.json"), "utf8")
    )
    expect(evaluation.drift_holdout.rows).toBe(staging.batch.holdout_rows)
    const acc = evaluation.drift_holdout.comparison.find((c: { metric: string }) => c.metric === "accuracy")
    expect(acc.candidate).toBeGreaterThan(acc.production)

    expect(cli(["drift", "unstage-training", "--config", config, "--workspace", ws]).code).toBe(0)
    const back = JSON.parse(cli(["run", "--config", config, "--approve", "cancel", "--workspace", ws, "--json"]).stdout)
    expect(back.dataset.rows).toBe(569)
  })
})
