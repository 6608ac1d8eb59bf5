import { describe, expect, it } from "vitest"
import type { AuditRecord, ModelVersion } from "../../src/domain/registry.js"
import { registryListText, registryRow, registryShowText, registryVerifyText } from "../../src/cli/render/registry.js"
import { runShowText, runsListText } from "../../src/cli/render/runs.js"
import { exportText } from "../../src/cli/render/data.js"
import { driftSummaryText, unstagedTrainingText } from "../../src/cli/render/drift.js"
import type { RunDetail } from "../../src/services/Tracker.js"

const version = (v: number, stage: ModelVersion["stage"], aliases: string[] = []): ModelVersion => ({
  name: "iris",
  version: v,
  runId: `0190-run-${v}`,
  stage,
  artifactPath: `artifacts/0190-run-${v}/model`,
  tags: {},
  aliases,
  createdAt: `2025-01-0${v}T00:00:00.000Z`,
  updatedAt: `2025-01-0${v}T00:00:00.000Z`
})

describe("registry renderers", () => {
  it("a model's row names its Production version and run and its latest version", () => {
    const row = registryRow("iris", [version(1, "Archived"), version(2, "Production"), version(3, "None")])
    expect(row).toEqual({ name: "iris", versions: 3, production: 2, production_run: "0190-run-2", latest: 3 })
    expect(registryRow("empty", [])).toEqual({
      name: "empty",
      versions: 0,
      production: null,
      production_run: null,
      latest: null
    })
  })

  it("the list is a header and one aligned line per model; an empty registry says so", () => {
    expect(registryListText([])).toBe("no registered models")
    const lines = registryListText([
      registryRow("iris", [version(1, "Production")]),
      registryRow("breast-cancer", [version(1, "Archived"), version(2, "None")])
    ]).split("\n")
    expect(lines).toHaveLength(3)
    expect(lines[0]!.startsWith("model")).toBe(true)
    // columns line up under the header: every line is as long as the header
    for (const l of lines) expect(l.length).toBe(lines[0]!.length)
    expect(lines[1]).toMatch(/^iris\s+1\s+1\s+1$/)
    expect(lines[2]).toMatch(/^breast-cancer\s+2\s+—\s+2$/)
  })

  it("show lists versions with stage and aliases, then the audit trail with transitions and reasons", () => {
    const audit: AuditRecord[] = [
      {
        seq: 1,
        at: "2025-01-02T00:00:00.000Z",
        actor: "user:ada",
        action: "transition",
        model: "iris",
        version: 2,
        fromStage: "None",
        toStage: "Production",
        reason: "better",
        details: {},
        prevHash: "0",
        hash: "1"
      } as AuditRecord
    ]
    const text = registryShowText("iris", [version(1, "Archived"), version(2, "Production", ["champion"])], audit)
    const lines = text.split("\n")
    expect(lines[0]).toBe("model iris")
    expect(lines[3]).toContain("Production")
    expect(lines[3]).toContain("champion")
    expect(lines.at(-1)).toBe("  #1 2025-01-02T00:00:00.000Z user:ada transition v2 None → Production: better")
  })

  it("verify says what was checked, or FAILED with every problem", () => {
    expect(
      registryVerifyText({
        ok: true,
        audit_records: 4,
        problems: [],
        notes: [],
        checked: ["SQLite integrity_check ok"],
        pending_rollbacks: []
      })
    ).toBe("registry verified: 4 audit record(s)\n  ok: SQLite integrity_check ok")
    const failed = registryVerifyText({
      ok: false,
      audit_records: 4,
      problems: ["model iris has 2 Production versions (1, 2)", "record 3: hash mismatch"],
      notes: [],
      checked: [],
      pending_rollbacks: []
    }).split("\n")
    expect(failed).toEqual([
      "registry verification FAILED (2 problem(s))",
      "  - model iris has 2 Production versions (1, 2)",
      "  - record 3: hash mismatch"
    ])
  })
})

describe("runs renderers", () => {
  const run = {
    runId: "0190aaaa-0000-7000-8000-000000000001",
    experiment: "iris-logreg",
    status: "completed" as const,
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:02.000Z",
    error: null,
    anchors: { dataset_version: "a".repeat(64), random_seed: "7" },
    process: { pid: 4242, host: "box" },
    heartbeatAt: "2025-01-01T00:00:01.000Z",
    interruptedAt: null
  }
  it("list shows the first 12 characters of the dataset version, or — without one", () => {
    expect(runsListText([])).toBe("no runs recorded yet")
    const lines = runsListText([run, { ...run, anchors: {} }]).split("\n")
    expect(lines[1]!.endsWith(" aaaaaaaaaaaa")).toBe(true)
    expect(lines[2]!.endsWith(" —")).toBe(true)
  })
  it("show prints every section, metrics with their step", () => {
    const d: RunDetail = {
      run: { ...run, status: "failed", error: "boom" },
      params: { n_estimators: "100" },
      metrics: [
        { key: "val.accuracy", value: 0.9, step: 0, at: "" },
        { key: "loss", value: 0.5, step: 3, at: "" }
      ],
      tags: { t: "v" },
      artifacts: [{ name: "model", path: "artifacts/x/model/model.json", sha256: null }]
    }
    expect(runShowText(d).split("\n")).toEqual([
      `run ${run.runId} (iris-logreg) failed`,
      "  started 2025-01-01T00:00:00.000Z, ended 2025-01-01T00:00:02.000Z",
      "  error: boom",
      "anchors:",
      `  dataset_version: ${"a".repeat(64)}`,
      "  random_seed: 7",
      "params:",
      "  n_estimators: 100",
      "metrics:",
      "  val.accuracy: 0.9",
      "  loss@3: 0.5",
      "tags:",
      "  t: v",
      "artifacts:",
      "  model: artifacts/x/model/model.json"
    ])
  })
})

describe("drift renderers", () => {
  it("the summary is a table with one line per check, or a sentence when there is none", () => {
    expect(driftSummaryText({ model: "iris", checks: [], trend: "" } as never)).toBe(
      "no drift checks recorded for iris"
    )
    const text = driftSummaryText({
      model: "iris",
      trend: "▁█",
      checks: [
        {
          at: "2025-01-01T00:00:00.000Z",
          version: 1,
          rows: 50,
          share: 0.25,
          severity: "low",
          decision: null,
          batch: "a.csv"
        },
        {
          at: "2025-01-02T00:00:00.000Z",
          version: 1,
          rows: 60,
          share: 0.75,
          severity: "high",
          decision: { action: "retrain" },
          batch: "b.csv"
        }
      ]
    } as never)
    const lines = text.split("\n")
    expect(lines[0]).toBe("drift history of iris (2 check(s)); share of drifted columns: ▁█")
    expect(lines[2]).toMatch(/^2025-01-01T00:00:00.000Z\s+1\s+50\s+0\.25\s+low\s+—\s+a\.csv$/)
    expect(lines[3]).toMatch(/\s0\.75\s+high\s+retrain\s+b\.csv$/)
  })
  it("unstaging says which staging and dataset", () => {
    expect(unstagedTrainingText({ id: "st-1", dataset: "iris" })).toBe(
      "unstaged drift training st-1; the next run of iris uses the original data again"
    )
  })
})

describe("data renderers", () => {
  it("data export: what went where, with rows, columns, dataset version and bytes", () => {
    const text = exportText({
      run_id: "r1",
      split: "val",
      format: "csv",
      rows: 206400,
      columns: ["a", "b", "y"],
      dataset: "california",
      dataset_version: "4c56fab851de58b72b40",
      source: "/ws/datasets/california/4c56/splits/x/val.arrow",
      out: "/tmp/val.csv",
      bytes: 18_080_090
    })
    expect(text).toBe(
      "wrote run r1's val split (206,400 rows × 3 columns, dataset california 4c56fab851de) to /tmp/val.csv as csv (18,080,090 bytes)"
    )
  })
})
