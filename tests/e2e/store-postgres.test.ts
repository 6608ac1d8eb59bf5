/**
 * Two workspaces, one PostgreSQL store, through the built CLI: an existing SQLite history moved over
 * with `store migrate` (its audit chain intact, a rerun resuming, a foreign target refused), a model
 * trained and promoted from one workspace seen from the other, `registry verify` / `store verify`
 * passing on PostgreSQL, and a wrong URL as one sentence. Needs DRIFTGATE_TEST_PG_URL.
 */
import { expect, it } from "vitest"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { cleanUpDatabases, describePg, freshDatabase } from "../layers/pg-support.js"
import { cli, tempWorkspace } from "./helpers.js"

cleanUpDatabases()

const json = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

describePg("a team on one PostgreSQL store (CLI)", () => {
  it("store migrate moves a SQLite history with its chain; a second workspace trains, promotes and verifies on it", async () => {
    const url = await freshDatabase()
    const wsA = tempWorkspace()
    for (let i = 0; i < 2; i++)
      expect(cli(["run", "--config", "configs/iris.yaml", "--workspace", wsA, "--approve", "auto"]).code).toBe(0)
    const sqliteAudit = json(cli(["registry", "show", "iris", "--workspace", wsA, "--json"]))["audit"]

    const moved = json(cli(["store", "migrate", "--to", url, "--workspace", wsA, "--json"]))
    expect(moved["resumed"]).toBe(false)
    const chain = moved["chain"] as {
      source: { head: string; records: number }
      target: { head: string; records: number }
    }
    expect(chain.target).toEqual({ ...chain.source })
    // Rerunning is idempotent: nothing copied twice.
    const again = json(cli(["store", "migrate", "--to", url, "--workspace", wsA, "--json"]))
    expect(again["resumed"]).toBe(true)
    expect((again["tables"] as Array<{ copied: number }>).every((t) => t.copied === 0)).toBe(true)
    // The registry as read through the PostgreSQL store is the SQLite one, record for record.
    const wsB = tempWorkspace()
    expect(json(cli(["registry", "show", "iris", "--workspace", wsB, "--store", url, "--json"]))["audit"]).toEqual(
      sqliteAudit
    )

    // Another workspace, the same store (through the environment): train and promote there.
    const run = cli(["run", "--config", "configs/iris.yaml", "--workspace", wsB, "--approve", "auto"], {
      env: { DRIFTGATE_STORE_URL: url }
    })
    expect(run.code, run.stderr).toBe(0)
    const shown = json(cli(["registry", "show", "iris", "--workspace", wsA, "--store", url, "--json"]))
    const versions = shown["versions"] as Array<{ version: number; stage: string }>
    expect(versions.map((v) => [v.version, v.stage])).toEqual([
      [1, "Archived"],
      [2, "Archived"],
      [3, "Production"]
    ])
    const verified = json(cli(["store", "verify", "--workspace", wsA, "--store", url, "--json"]))
    expect(verified["ok"]).toBe(true)
    expect(verified["problems"]).toEqual([])
    expect(verified["audit_records"]).toBe(chain.source.records + 3)
    // Artifacts of version 3 live in the store, not in workspace B's folder.
    expect(() => readFileSync(path.join(wsB, "artifacts"))).toThrow()

    // A store that already holds another history is refused without --append.
    const wsC = tempWorkspace()
    expect(cli(["run", "--config", "configs/iris.yaml", "--workspace", wsC, "--approve", "auto"]).code).toBe(0)
    const refused = cli(["store", "migrate", "--to", url, "--workspace", wsC])
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim().split("\n")).toHaveLength(1)
    expect(refused.stderr).toContain("already holds runs, registry records or files")
  }, 600_000)

  it("a wrong URL is one sentence naming host:port with the server's message, exit 1, no password", async () => {
    const url = new URL(await freshDatabase())
    url.pathname = "/no_such_db"
    url.password = "hunter2-secret"
    const r = cli(["registry", "list", "--store", url.toString(), "--workspace", tempWorkspace()])
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`${url.hostname}:${url.port}/no_such_db`)
    expect(r.stderr).toContain('database "no_such_db" does not exist')
    expect(r.stderr).not.toContain("hunter2-secret")
  })
})
