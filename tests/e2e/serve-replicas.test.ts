/**
 * Serve replicas follow the registry: two `driftgate serve` processes (each with a workspace of its
 * own) on one PostgreSQL store, a model trained and promoted from a third workspace, and both serve
 * the new version within a few seconds without an admin reload; /ready names the registry version
 * (the audit head) they serve. Needs DRIFTGATE_TEST_PG_URL and the built CLI.
 */
import { afterAll, describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { type ServeProcess, startServe } from "../../bench/serve/process.js"
import { cleanUpDatabases, describePg, freshDatabase } from "../layers/pg-support.js"
import { bin, cli, root, tempWorkspace } from "./helpers.js"

cleanUpDatabases()
const running: ServeProcess[] = []
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()))
})

const row = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 }

interface Ready {
  readonly status: string
  readonly models: ReadonlyArray<{ name: string; version: number }>
  readonly registry: { seq: number; hash: string } | null
}
const ready = async (url: string) => (await (await fetch(`${url}/ready`)).json()) as Ready

/** The audit head as `registry show` reads it through the store. */
const head = (url: string, ws: string) => {
  const r = cli(["registry", "show", "iris", "--workspace", ws, "--store", url, "--json"])
  expect(r.code, r.stderr).toBe(0)
  const audit = (JSON.parse(r.stdout) as { audit: Array<{ seq: number; hash: string }> }).audit
  return audit[audit.length - 1]!
}

describePg("serve replicas on one PostgreSQL store", () => {
  it("two replicas serve a version promoted from a third workspace within a few seconds, /ready names the head", async () => {
    const url = await freshDatabase()
    const trainer = tempWorkspace()
    const first = cli([
      "run",
      "--config",
      "configs/iris.yaml",
      "--workspace",
      trainer,
      "--store",
      url,
      "--approve",
      "auto"
    ])
    expect(first.code, first.stderr).toBe(0)

    for (let i = 0; i < 2; i++)
      running.push(
        await startServe(spawn, bin, root, [
          "--workspace",
          tempWorkspace(),
          "--store",
          url,
          "--port",
          "0",
          "--host",
          "127.0.0.1"
        ])
      )
    const before = head(url, trainer)
    for (const s of running) {
      const r = await ready(s.url)
      expect(r.status).toBe("ready")
      expect(r.models.map((m) => [m.name, m.version])).toEqual([["iris", 1]])
      expect(r.registry).toEqual({ seq: before.seq, hash: before.hash.slice(0, 12) })
    }

    // Requests keep flowing on both replicas while the promotion lands; none may fail.
    let stop = false
    const failures: string[] = []
    let answered = 0
    const load = async (s: ServeProcess) => {
      while (!stop) {
        try {
          const res = await fetch(`${s.url}/predict/iris`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ features: row })
          })
          if (res.status !== 200) failures.push(`${res.status} ${await res.text()}`)
          else {
            await res.arrayBuffer()
            answered++
          }
        } catch (e) {
          failures.push(String(e))
        }
      }
    }
    const loads = running.map(load)

    const promoter = tempWorkspace()
    const second = cli([
      "run",
      "--config",
      "configs/iris.yaml",
      "--workspace",
      promoter,
      "--store",
      url,
      "--approve",
      "auto"
    ])
    expect(second.code, second.stderr).toBe(0)
    const committed = Date.now()
    const after = head(url, promoter)
    expect(after.seq).toBeGreaterThan(before.seq)

    const served = await Promise.all(
      running.map(async (s) => {
        const deadline = committed + 5_000
        for (;;) {
          const r = await ready(s.url)
          if (r.models.some((m) => m.name === "iris" && m.version === 2)) return { at: Date.now(), ready: r }
          if (Date.now() > deadline)
            throw new Error(`replica ${s.url} still serves ${JSON.stringify(r)}; ${s.stderr()}`)
          await new Promise((res) => setTimeout(res, 25))
        }
      })
    )
    stop = true
    await Promise.all(loads)
    for (const { at, ready: r } of served) {
      expect(at - committed).toBeLessThan(5_000)
      expect(r.registry).toEqual({ seq: after.seq, hash: after.hash.slice(0, 12) })
    }
    expect(failures).toEqual([])
    expect(answered).toBeGreaterThan(0)
    for (const s of running) {
      expect(s.stderr()).toContain("following the registry by LISTEN")
      expect(s.stderr()).toMatch(/registry moved to seq \d+ \([0-9a-f]{12}\); serving iris v2/)
      expect(await s.stop()).toBe(0)
    }
    running.length = 0
  }, 300_000)
})

describe("serve follows a workspace's SQLite registry", () => {
  it("a run promoted by another process on the same workspace is served without an admin reload (polling)", async () => {
    const ws = tempWorkspace()
    const first = cli(["run", "--config", "configs/iris.yaml", "--workspace", ws, "--approve", "auto"])
    expect(first.code, first.stderr).toBe(0)
    const s = await startServe(spawn, bin, root, ["--workspace", ws, "--port", "0", "--host", "127.0.0.1"])
    running.push(s)
    expect((await ready(s.url)).models.map((m) => m.version)).toEqual([1])
    const second = cli(["run", "--config", "configs/iris.yaml", "--workspace", ws, "--approve", "auto"])
    expect(second.code, second.stderr).toBe(0)
    const committed = Date.now()
    let r = await ready(s.url)
    while (!r.models.some((m) => m.version === 2) && Date.now() - committed < 5_000) {
      await new Promise((res) => setTimeout(res, 25))
      r = await ready(s.url)
    }
    expect(
      r.models.map((m) => m.version),
      s.stderr()
    ).toEqual([2])
    const audit = (
      JSON.parse(cli(["registry", "show", "iris", "--workspace", ws, "--json"]).stdout) as {
        audit: Array<{ seq: number; hash: string }>
      }
    ).audit
    const last = audit[audit.length - 1]!
    expect(r.registry).toEqual({ seq: last.seq, hash: last.hash.slice(0, 12) })
    expect(s.stderr()).toContain("following the registry by polling")
    expect(await s.stop()).toBe(0)
    running.splice(running.indexOf(s), 1)
  }, 120_000)

  it("DRIFTGATE_REGISTRY_FOLLOW must be auto, poll or off: another value is one sentence, exit 64", () => {
    const ws = tempWorkspace()
    const r = cli(["serve", "--workspace", ws, "--port", "0"], { env: { DRIFTGATE_REGISTRY_FOLLOW: "sometimes" } })
    expect(r.code).toBe(64)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain('DRIFTGATE_REGISTRY_FOLLOW is "sometimes": it must be auto, poll or off')
  })
})
