import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { RegistrySqlite } from "../../src/layers/registry/RegistrySqlite.js"
import { migrations } from "../../src/layers/sqlite/migrations.js"
import { openDatabase, SqliteDatabase, SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { goneReason, processAlive, processStart, type RunProcess } from "../../src/layers/tracker/runLiveness.js"
import { makeTrackerSqlite, type TrackerSqliteOptions } from "../../src/layers/tracker/TrackerSqlite.js"
import { Registry } from "../../src/services/Registry.js"
import { Tracker } from "../../src/services/Tracker.js"
import { anchors, promoteInput } from "./registry-crash-support.js"
import { runKillTrials } from "./registry-crash-runs-support.js"

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "driftgate-runs-crash-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const host = hostname()
const procA: RunProcess = { pid: 4_000_001, host, start: "111" }
const procB: RunProcess = { pid: 4_000_002, host, start: "222" }

/** A command on the store at `path`, as process `here` (the sweep runs when the layer opens). */
const command = <A, E>(
  path: string,
  options: TrackerSqliteOptions,
  body: Effect.Effect<A, E, Tracker | Registry | SqliteDatabase>
) =>
  Effect.runPromise(
    body.pipe(
      Effect.provide(
        Layer.mergeAll(makeTrackerSqlite(options), RegistrySqlite).pipe(Layer.provideMerge(SqliteDatabaseLive(path)))
      )
    )
  )

const createRun = (runId: string) =>
  Effect.flatMap(Tracker, (t) => t.createRun({ runId, experiment: "exp", anchors: anchors(runId) }))

describe("runs: telling a run whose process is gone", () => {
  const now = Date.parse("2026-03-01T12:00:00.000Z")
  const row = (over: Partial<Parameters<typeof goneReason>[0]>) => ({
    pid: procA.pid,
    host,
    start: procA.start,
    lastSeen: "2026-03-01T11:59:00.000Z",
    ...over
  })
  it("same host: gone when the pid is dead or is another process now; alive otherwise", () => {
    expect(goneReason(row({}), procB, now, 60_000, () => false)).toContain(`pid ${procA.pid} on ${host}) is gone`)
    expect(goneReason(row({}), procB, now, 60_000, () => true)).toBeUndefined()
    // this very process: never gone, whatever the heartbeat says
    expect(goneReason(row({ lastSeen: "2020-01-01T00:00:00.000Z" }), procA, now, 60_000, () => false)).toBeUndefined()
    // the real check: this process is alive, a reused pid (another start time) is not the run's process
    const self = { pid: process.pid, start: processStart(process.pid) }
    expect(processAlive(self)).toBe(true)
    if (self.start !== null) expect(processAlive({ pid: process.pid, start: `${self.start}9` })).toBe(false)
    expect(processAlive({ pid: 2 ** 22 + 12345, start: null })).toBe(false)
  })
  it("another host, or a run recorded before runs kept their pid: gone once silent for longer than the bound", () => {
    const other = row({ host: "elsewhere" })
    expect(goneReason(other, procB, now, 120_000, () => false)).toBeUndefined() // 60 s silent < 120 s
    expect(goneReason(other, procB, now, 30_000, () => true)).toContain("no heartbeat from its process")
    expect(goneReason(row({ pid: null, host: null }), procB, now, 30_000)).toContain(
      "before runs recorded their process"
    )
  })
})

describe("TrackerSqlite: orphaned runs", () => {
  it("the next command marks a run whose process is gone as interrupted, with when and why; a live one stays", async () => {
    const path = join(tempDir(), "store.db")
    await command(path, { here: procA }, Effect.all([createRun("run-dead"), createRun("run-dead-too")]))
    // process B opens the store and finds A's pid dead
    const marked = await command(
      path,
      { here: procB, alive: () => false },
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(marked.map((r) => [r.runId, r.status]).sort()).toEqual([
      ["run-dead", "interrupted"],
      ["run-dead-too", "interrupted"]
    ])
    const d = marked.find((r) => r.runId === "run-dead")!
    expect(d.interruptedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/)
    expect(d.endedAt).toBe(d.heartbeatAt) // the last time it was known alive
    expect(d.error).toContain(`interrupted: its process (pid ${procA.pid} on ${host}) is gone`)
    expect(d.error).toContain(`by pid ${procB.pid}`)
    expect(d.process).toEqual({ pid: procA.pid, host })

    const path2 = join(tempDir(), "store.db")
    await command(path2, { here: procA }, createRun("run-alive"))
    const kept = await command(
      path2,
      { here: procB, alive: () => true },
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(kept.map((r) => r.status)).toEqual(["running"])
    // a run ended normally is never touched
    await command(
      path2,
      { here: procA },
      Effect.flatMap(Tracker, (t) => t.endRun("run-alive", "completed"))
    )
    const ended = await command(
      path2,
      { here: procB, alive: () => false },
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(ended.map((r) => r.status)).toEqual(["completed"])
  })

  it("a real process killed with SIGKILL: its run is interrupted at the next open (the real liveness check)", async () => {
    const path = join(tempDir(), "store.db")
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })
    await new Promise((r) => child.once("spawn", r))
    const childProc: RunProcess = { pid: child.pid!, host, start: processStart(child.pid!) }
    await command(path, { here: childProc }, createRun("run-of-child"))
    const before = await command(
      path,
      {},
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(before[0]!.status).toBe("running") // alive: left alone
    const exited = new Promise((r) => child.once("exit", r))
    child.kill("SIGKILL")
    await exited
    const after = await command(
      path,
      {},
      Effect.flatMap(Tracker, (t) => t.getRun("run-of-child"))
    )
    expect(after.run.status).toBe("interrupted")
    expect(after.run.error).toContain(`pid ${child.pid} on ${host}) is gone`)
  })

  it("heartbeats while the run is open; a run of another host is interrupted only once its heartbeat is stale", async () => {
    const path = join(tempDir(), "store.db")
    const remote: RunProcess = { pid: 77, host: "another-host", start: null }
    const beats = await command(
      path,
      { here: remote, heartbeatMs: 40 },
      Effect.gen(function* () {
        const t = yield* Tracker
        const created = yield* t.createRun({ runId: "remote-run", experiment: "exp", anchors: anchors("remote-run") })
        yield* Effect.sleep("300 millis")
        return { created: created.heartbeatAt!, later: (yield* t.getRun("remote-run")).run.heartbeatAt! }
      })
    )
    expect(Date.parse(beats.later)).toBeGreaterThan(Date.parse(beats.created))
    const fresh = await command(
      path,
      { here: procB, staleAfterMs: 60_000 },
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(fresh[0]!.status).toBe("running")
    await new Promise((r) => setTimeout(r, 120))
    const stale = await command(
      path,
      { here: procB, staleAfterMs: 50 },
      Effect.flatMap(Tracker, (t) => t.listRuns())
    )
    expect(stale[0]!.status).toBe("interrupted")
    expect(stale[0]!.error).toContain("no heartbeat from its process (pid 77 on another-host)")
  })

  it("a version registered by a run later interrupted keeps its audit record, and the run's status names it", async () => {
    const path = join(tempDir(), "store.db")
    const input = promoteInput("iris")
    await command(
      path,
      { here: procA },
      Effect.gen(function* () {
        yield* createRun(input.runId)
        yield* Effect.flatMap(Registry, (r) => r.promote(input))
      })
    )
    const seen = await command(
      path,
      { here: procB, alive: () => false },
      Effect.gen(function* () {
        const run = (yield* Effect.flatMap(Tracker, (t) => t.getRun(input.runId))).run
        const registry = yield* Registry
        return { run, audit: yield* registry.audit(), verdict: yield* registry.verify() }
      })
    )
    expect(seen.run.status).toBe("interrupted")
    expect(seen.run.error).toContain(
      "it had registered iris v1 (now Production); that version and its audit record stand"
    )
    expect(seen.audit.some((a) => a.model === "iris" && a.version === 1 && a.toStage === "Production")).toBe(true)
    expect(seen.verdict.ok).toBe(true)
  })

  it("migrates a store written before runs kept their process: rows, params and metrics kept, old 'running' runs swept", async () => {
    const path = join(tempDir(), "store.db")
    const old = openDatabase(
      path,
      migrations.filter((m) => m.version <= 2)
    )
    old.prepare("INSERT INTO experiments (name, created_at) VALUES ('exp', '2020-01-01T00:00:00.000Z')").run()
    const insert = old.prepare(
      "INSERT INTO runs (run_id, experiment, status, started_at, anchors_json) VALUES (?, 'exp', ?, '2020-01-01T00:00:00.000Z', '{}')"
    )
    insert.run("old-running", "running")
    insert.run("old-done", "completed")
    old.prepare("INSERT INTO params (run_id, key, value) VALUES ('old-done', 'seed', '7')").run()
    old.prepare("INSERT INTO metrics (run_id, key, value, step, at) VALUES ('old-done', 'acc', 0.9, 0, 'x')").run()
    old.close()
    const seen = await command(
      path,
      { here: procB },
      Effect.gen(function* () {
        const t = yield* Tracker
        const sql = yield* SqliteDatabase
        return {
          runs: yield* t.listRuns(),
          done: yield* t.getRun("old-done"),
          fk: sql.db.pragma("foreign_key_check") as unknown[],
          integrity: sql.db.pragma("integrity_check", { simple: true }),
          // the tracking tables still cascade from runs
          cascade: (() => {
            sql.db.prepare("DELETE FROM runs WHERE run_id = 'old-done'").run()
            return sql.db.prepare("SELECT COUNT(*) AS n FROM params").get() as { n: number }
          })()
        }
      })
    )
    expect(Object.fromEntries(seen.runs.map((r) => [r.runId, r.status]))).toEqual({
      "old-running": "interrupted",
      "old-done": "completed"
    })
    expect(seen.done.params).toEqual({ seed: "7" })
    expect(seen.done.metrics.map((m) => [m.key, m.value])).toEqual([["acc", 0.9]])
    expect(seen.fk).toEqual([])
    expect(seen.integrity).toBe("ok")
    expect(seen.cascade.n).toBe(0)
  })
})

describe("kill -9 of `driftgate run` (the built CLI) at random points", () => {
  // bench/registry_crash.ts runs 20+ of these; a few here keep the suite fast.
  it("afterwards the killed run is interrupted, never running, and the registry keeps its invariants", async () => {
    const summary = await runKillTrials({ workspace: tempDir(), trials: 3, seed: 5 })
    expect(summary.details.flatMap((t) => t.problems)).toEqual([])
    expect(summary.leftRunning).toBe(0)
    expect(summary.interrupted + summary.killedAfterEnd).toBe(summary.killedWithRun)
    // the kills land inside the pipeline (after its run was created), not in the process start-up
    expect(summary.killedWithRun + summary.finishedBeforeKill).toBe(3)
  }, 180_000)
})
