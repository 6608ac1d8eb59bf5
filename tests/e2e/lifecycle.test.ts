import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cli, root, tempWorkspace } from "./helpers.js"
import { createHash } from "node:crypto"
import { createRequire } from "node:module"
import { Effect, Layer, ManagedRuntime } from "effect"
import { liveLayer } from "../../src/layers/live.js"
import { defaultServeConfig } from "../../src/domain/serveConfig.js"
import { modelSource } from "../../src/programs/serve/serve.js"
import { makeServer } from "../../src/programs/serve/server.js"
import { SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { RegistrySqlite } from "../../src/layers/registry/RegistrySqlite.js"
import { Registry } from "../../src/services/Registry.js"

const variant = (shipped: string, edit: (t: string) => string) => {
  const dir = tempWorkspace()
  const file = path.join(dir, shipped)
  fs.writeFileSync(
    file,
    `data_root: ${path.join(root, "data/raw")}\n${edit(fs.readFileSync(path.join(root, "configs", shipped), "utf8"))}`
  )
  return file
}
const json = (s: string) => JSON.parse(s)
const require = createRequire(import.meta.url)

describe("the governed lifecycle through the CLI (SQLite + file system)", () => {
  it("run → v1; new seed → v2 archives v1; rollback restores v1; verify passes", () => {
    const ws = tempWorkspace()
    const first = cli([
      "run",
      "--config",
      "configs/breast_cancer.yaml",
      "--approve",
      "auto",
      "--workspace",
      ws,
      "--json"
    ])
    expect(first.code, first.stderr).toBe(0)
    const r1 = json(first.stdout)
    expect(r1.status).toBe("completed")
    const sha = createHash("sha256")
      .update(fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv")))
      .digest("hex")
    expect(r1.dataset.version).toBe(sha)
    expect(r1.dataset.splits).toEqual({ train: 398, val: 86, test: 85 })
    for (const f of [
      "run_report.json",
      "evaluation_report.json",
      "promotion_decision.json",
      "deployment_manifest.json"
    ]) {
      expect(fs.existsSync(path.join(ws, "reports", r1.run_id, f)), f).toBe(true)
    }
    expect(fs.existsSync(path.join(ws, "store.db"))).toBe(true)

    const second = cli([
      "run",
      "--config",
      variant("breast_cancer.yaml", (t) => t.replace("random_seed: 42", "random_seed: 7")),
      "--approve",
      "auto",
      "--workspace",
      ws,
      "--json"
    ])
    expect(second.code, second.stderr).toBe(0)
    const show = json(cli(["registry", "show", "breast-cancer", "--workspace", ws, "--json"]).stdout)
    expect(show.versions.map((v: { version: number; stage: string }) => [v.version, v.stage])).toEqual([
      [1, "Archived"],
      [2, "Production"]
    ])

    const back = cli([
      "rollback",
      "--config",
      "configs/breast_cancer.yaml",
      "--workspace",
      ws,
      "--version",
      "1",
      "--reason",
      "v2 regressed on recent data",
      "--yes"
    ])
    expect(back.code, back.stderr).toBe(0)
    const after = json(cli(["registry", "show", "breast-cancer", "--workspace", ws, "--json"]).stdout)
    expect(after.versions.map((v: { version: number; stage: string }) => [v.version, v.stage])).toEqual([
      [1, "Production"],
      [2, "Archived"]
    ])
    expect(after.audit.at(-2)).toMatchObject({ action: "rollback", reason: "v2 regressed on recent data", version: 1 })

    const verify = cli(["registry", "verify", "--workspace", ws, "--json"])
    expect(verify.code).toBe(0)
    expect(json(verify.stdout)).toMatchObject({ ok: true, problems: [] })

    // A state edited behind the registry's back (no audit record) fails verification.
    const tampered = tempWorkspace()
    fs.cpSync(ws, tampered, { recursive: true })
    const Database = require("better-sqlite3")
    const db = new Database(path.join(tampered, "store.db"))
    db.prepare("UPDATE model_versions SET stage = 'Archived' WHERE version = 1").run()
    db.prepare("UPDATE model_versions SET stage = 'Production' WHERE version = 2").run()
    db.close()
    const bad = cli(["registry", "verify", "--workspace", tampered])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("the audit log says")

    // Rolling back to the current Production version or to an unknown version is a clear error.
    const same = cli([
      "rollback",
      "--config",
      "configs/breast_cancer.yaml",
      "--workspace",
      ws,
      "--version",
      "1",
      "--reason",
      "x y z",
      "--yes"
    ])
    expect(same.code).toBe(64)
    expect(same.stderr).toContain("version 1 is already in Production")
    const unknown = cli([
      "rollback",
      "--config",
      "configs/breast_cancer.yaml",
      "--workspace",
      ws,
      "--version",
      "9",
      "--reason",
      "x y z",
      "--yes"
    ])
    expect(unknown.code).toBe(64)
    expect(unknown.stderr).toContain("has no version 9")
    const headless = cli(["rollback", "--config", "configs/breast_cancer.yaml", "--workspace", ws, "--version", "2"])
    expect(headless.code).toBe(64)
    expect(headless.stderr).toContain("--reason")

    const runs = json(cli(["runs", "list", "--workspace", ws, "--json"]).stdout)
    expect(runs).toHaveLength(2)
    const detail = json(cli(["runs", "show", r1.run_id, "--workspace", ws, "--json"]).stdout)
    expect(detail.run.anchors.dataset_version).toBe(sha)
    expect(detail.metrics.some((m: { key: string }) => m.key === "val.accuracy")).toBe(true)
  })

  it("headless without --approve cancels (exit 3) and records it; promote --run later approves", () => {
    const ws = tempWorkspace()
    const r = cli(["run", "--config", "configs/iris.yaml", "--workspace", ws, "--json"])
    expect(r.code, r.stderr).toBe(3)
    const out = json(r.stdout)
    expect(out.status).toBe("cancelled")
    expect(r.stderr).toContain("cancelled")
    const decision = json(fs.readFileSync(path.join(ws, "reports", out.run_id, "promotion_decision.json"), "utf8"))
    expect(decision.outcome).toBe("cancelled")
    expect(
      json(fs.readFileSync(path.join(ws, "reports", out.run_id, "deployment_manifest.json"), "utf8")).readiness
    ).toBe("promotion_not_approved")

    const later = cli(["promote", "--run", out.run_id, "--approve", "auto", "--workspace", ws, "--json"])
    expect(later.code, later.stderr).toBe(0)
    expect(json(later.stdout).version).toMatchObject({ version: 1, stage: "Production" })
    const again = cli(["promote", "--run", out.run_id, "--approve", "auto", "--workspace", ws])
    expect(again.code).toBe(64)
    expect(again.stderr).toContain("already registered as version 1")
  })

  it("thresholds that cannot be met block (exit 2) and list every failing rule", () => {
    const ws = tempWorkspace()
    const file = variant("california_housing.yaml", (t) =>
      t.replace("threshold: 0.80", "threshold: 0.99").replace("threshold: 0.40", "threshold: 0.01")
    )
    const r = cli(["run", "--config", file, "--approve", "auto", "--workspace", ws, "--json"])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain("min_r2")
    expect(r.stderr).toContain("max_mae")
    const out = json(r.stdout)
    expect(out.status).toBe("blocked")
    expect(json(cli(["registry", "list", "--workspace", ws, "--json"]).stdout)).toEqual([])
  })

  it("a rollback interrupted after its intent record is reported by the next command and finishable", async () => {
    const ws = tempWorkspace()
    expect(cli(["run", "--config", "configs/iris.yaml", "--approve", "auto", "--workspace", ws]).code).toBe(0)
    expect(
      cli([
        "run",
        "--config",
        variant("iris.yaml", (t) => t.replace("random_seed: 7", "random_seed: 8")),
        "--approve",
        "auto",
        "--workspace",
        ws
      ]).code
    ).toBe(0)
    // The power cut: the intent is written, the transition never happens.
    await Effect.runPromise(
      Effect.gen(function* () {
        const registry = yield* Registry
        yield* registry.beginRollback({ name: "iris", toVersion: 1, reason: "power cut test", actor: "user:test" })
      }).pipe(Effect.provide(RegistrySqlite.pipe(Layer.provide(SqliteDatabaseLive(path.join(ws, "store.db"))))))
    )
    const list = cli(["registry", "list", "--workspace", ws])
    expect(list.code).toBe(0)
    expect(list.stderr).toContain("interrupted rollback of iris to version 1")
    expect(list.stderr).toContain("--resume")
    // Every command that opens the store says it, once, in one sentence: read-only ones and drift too.
    const sentence = (config: string) =>
      `is pending, so version 2 is still the one deployed; finish it with \`driftgate rollback --config ${config} --resume\` or drop it with \`driftgate rollback --config ${config} --abandon --reason TEXT\``
    const runs = cli(["runs", "list", "--workspace", ws])
    expect(runs.code, runs.stderr).toBe(0)
    expect(runs.stderr).toContain("interrupted rollback of iris to version 1")
    expect(runs.stderr).toContain(sentence("<config>"))
    expect(runs.stderr.split("interrupted rollback of iris").length - 1).toBe(1)
    const summary = cli(["drift", "summary", "--config", "configs/iris.yaml", "--workspace", ws])
    expect(summary.stderr).toContain("interrupted rollback of iris to version 1")
    expect(summary.stderr).toContain(sentence("configs/iris.yaml"))
    // serve shows it on /ready (with the reason) and per model on /models
    const served = ManagedRuntime.make(liveLayer({ workspace: ws, approve: undefined, existing: true }))
    try {
      const source = modelSource(await served.runtime(), { stage: "Production", maxBatchRows: 20 })
      const app = await makeServer({ source, config: defaultServeConfig(), adminToken: undefined, log: () => {} })
      try {
        const ready = (await app.inject({ method: "GET", url: "/ready" })).json()
        expect(ready.pending_rollbacks).toHaveLength(1)
        expect(ready.pending_rollbacks[0]).toMatchObject({ model: "iris", from_version: 2, to_version: 1 })
        expect(ready.reason).toContain("iris to version 1")
        const models = (await app.inject({ method: "GET", url: "/models" })).json()
        const iris = models.models.find((m: { name: string }) => m.name === "iris")
        expect(iris.version).toBe(2)
        expect(iris.pending_rollback).toMatchObject({ model: "iris", to_version: 1, reason: "power cut test" })
      } finally {
        await app.close()
      }
    } finally {
      await served.dispose()
    }
    const blocked = cli([
      "rollback",
      "--config",
      "configs/iris.yaml",
      "--workspace",
      ws,
      "--version",
      "1",
      "--reason",
      "again",
      "--yes"
    ])
    expect(blocked.code).toBe(64)
    const resume = cli(["rollback", "--config", "configs/iris.yaml", "--workspace", ws, "--resume", "--json"])
    expect(resume.code, resume.stderr).toBe(0)
    expect(json(resume.stdout).action).toBe("resumed")
    const show = json(cli(["registry", "show", "iris", "--workspace", ws, "--json"]).stdout)
    expect(show.versions.map((v: { stage: string }) => v.stage)).toEqual(["Production", "Archived"])
    // Who finished it is the actor; who started it stays on record.
    const done = show.audit.find((a: { action: string }) => a.action === "rollback")
    expect(done.details.started_by).toBe("user:test")
    expect(done.actor).not.toBe("user:test")
    expect(cli(["registry", "verify", "--workspace", ws]).code).toBe(0)
    expect(cli(["registry", "list", "--workspace", ws]).stderr).toBe("")
  })
})
