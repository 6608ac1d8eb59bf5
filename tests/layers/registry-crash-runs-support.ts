/**
 * kill -9 of `driftgate run` (the built CLI) at random moments, for tests/layers/registry-crash-runs.test.ts
 * and bench/registry_crash.ts: after every kill the next command that opens the store must show the
 * killed run `interrupted` (never `running`), the registry must keep its invariants, and a version
 * the killed run had registered must keep its audit record and be named in the run's status.
 */
import { Effect, Layer } from "effect"
import type BetterSqlite3 from "better-sqlite3"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import { rng } from "../../src/domain/random.js"
import { RegistrySqlite } from "../../src/layers/registry/RegistrySqlite.js"
import { SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { makeTrackerSqlite } from "../../src/layers/tracker/TrackerSqlite.js"
import { Registry } from "../../src/services/Registry.js"
import { Tracker } from "../../src/services/Tracker.js"
import { REPO_ROOT, registryProblems } from "./registry-crash-support.js"

export const BIN = resolve(REPO_ROOT, "bin/driftgate.js")
export const CONFIG = resolve(REPO_ROOT, "configs/iris.yaml")

const require = createRequire(import.meta.url)

/**
 * Runs `driftgate run` in `workspace`. With `killAfterMs`, SIGKILLs it that long after its run
 * appears in the store (polled read-only every 5 ms), so that kills land inside the pipeline rather
 * than in the process start-up.
 */
const runCli = (workspace: string, killAfterMs: number | null) =>
  new Promise<{ killed: boolean; code: number | null; ms: number; stderr: string }>((res) => {
    const t0 = Date.now()
    const child = spawn(
      process.execPath,
      [BIN, "run", "--config", CONFIG, "--workspace", workspace, "--approve", "auto"],
      { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DRIFTGATE_WORKSPACE: "" } }
    )
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    let killed = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let poll: ReturnType<typeof setInterval> | undefined
    if (killAfterMs !== null) {
      const Database = require("better-sqlite3") as typeof BetterSqlite3
      const db = new Database(join(workspace, "store.db"), { readonly: true, fileMustExist: true })
      const count = () => (db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n
      const before = count()
      poll = setInterval(() => {
        let n: number
        try {
          n = count()
        } catch {
          return // busy: try again
        }
        if (n === before) return
        clearInterval(poll)
        poll = undefined
        db.close()
        timer = setTimeout(() => {
          killed = child.kill("SIGKILL")
        }, killAfterMs)
      }, 5)
      child.on("exit", () => {
        if (poll !== undefined) {
          clearInterval(poll)
          db.close()
        }
      })
    }
    child.on("exit", (code) => {
      if (timer !== undefined) clearTimeout(timer)
      res({ killed, code, ms: Date.now() - t0, stderr })
    })
  })

/** The next command: open the store as the CLI does (the Tracker's sweep runs on open), read it. */
const inspect = (workspace: string) =>
  Effect.gen(function* () {
    const tracker = yield* Tracker
    const registry = yield* Registry
    const runs = yield* tracker.listRuns({ limit: 10_000 })
    const problems = [...(yield* registryProblems)]
    const audit = yield* registry.audit()
    const versions = (yield* registry.listModels()).length > 0 ? yield* registry.listVersions("iris") : []
    return { runs, problems, audit, versions }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(makeTrackerSqlite(), RegistrySqlite).pipe(
        Layer.provideMerge(SqliteDatabaseLive(join(workspace, "store.db")))
      )
    )
  )

export interface RunKillTrial {
  readonly trial: number
  readonly killAfterMs: number
  /** The process was still running when the kill came (else it had finished: not a crash). */
  readonly killed: boolean
  /** The run the killed process had created, if it got that far. */
  readonly runId: string | null
  readonly status: string | null
  /** It had registered a version before it was killed. */
  readonly promotedBeforeKill: boolean
  readonly problems: ReadonlyArray<string>
}

export interface RunKillSummary {
  readonly trials: number
  readonly killedWithRun: number
  /** Killed after the run had ended (while the process printed its summary): the run keeps its end. */
  readonly killedAfterEnd: number
  readonly killedBeforeRun: number
  readonly finishedBeforeKill: number
  readonly interrupted: number
  /** Runs still `running` after the next command opened the store: must be 0. */
  readonly leftRunning: number
  readonly promotedThenInterrupted: number
  readonly problems: number
  readonly baselineMs: number
  /** The baseline run's own duration (run record), the range the kills are drawn from. */
  readonly pipelineMs: number
  readonly details: ReadonlyArray<RunKillTrial>
}

export const runKillTrials = async (options: {
  readonly workspace: string
  readonly trials: number
  readonly seed: number
  readonly onTrial?: (t: RunKillTrial) => void
}): Promise<RunKillSummary> => {
  if (!existsSync(join(REPO_ROOT, "dist/cli.js")))
    throw new Error("the CLI is not built: run `node scripts/build.mjs --no-types` first")
  const random = rng(options.seed)
  // one complete run: Production v1 to compare with, and how long a run takes here
  const baseline = await runCli(options.workspace, null)
  if (baseline.code !== 0) throw new Error(`the baseline run failed (exit ${baseline.code}): ${baseline.stderr}`)
  const details: RunKillTrial[] = []
  const first = await Effect.runPromise(inspect(options.workspace))
  let known = new Set(first.runs.map((r) => r.runId))
  // how long the pipeline itself takes, from its run record (start-up excluded)
  const pipelineMs = Date.parse(first.runs[0]!.endedAt!) - Date.parse(first.runs[0]!.startedAt)
  for (let trial = 1; trial <= options.trials; trial++) {
    // anywhere from the run's creation to a little past its usual end: every stage gets hit now and then
    const killAfterMs = Math.round(pipelineMs * 1.1 * random.next())
    const r = await runCli(options.workspace, killAfterMs)
    const after = await Effect.runPromise(inspect(options.workspace))
    const fresh = after.runs.filter((x) => !known.has(x.runId))
    known = new Set(after.runs.map((x) => x.runId))
    const problems = [...after.problems]
    const stillRunning = after.runs.filter((x) => x.status === "running")
    for (const x of stillRunning)
      problems.push(`run ${x.runId} is still 'running' after the next command opened the store`)
    if (fresh.length > 1) problems.push(`${fresh.length} new runs after one command`)
    const run = fresh[0]
    const version = run !== undefined ? after.versions.find((v) => v.runId === run.runId) : undefined
    // a kill after the run ended (the process was printing its summary) leaves it as it ended: fine
    if (run !== undefined && r.killed && run.status === "interrupted") {
      if (run.interruptedAt === null) problems.push(`the killed run ${run.runId} does not say when it was found`)
      if (version !== undefined) {
        const recorded = after.audit.some(
          (a) => a.model === "iris" && a.version === version.version && a.toStage === "Production"
        )
        if (!recorded) problems.push(`version ${version.version} of the killed run lost its audit record`)
        if (!(run.error ?? "").includes(`iris v${version.version}`))
          problems.push(`the interrupted run's status does not name the version it registered: ${run.error}`)
      }
    }
    if (run !== undefined && !r.killed && run.status === "interrupted")
      problems.push(`run ${run.runId} finished (exit ${r.code}) but was marked interrupted`)
    const t: RunKillTrial = {
      trial,
      killAfterMs,
      killed: r.killed,
      runId: run?.runId ?? null,
      status: run?.status ?? null,
      promotedBeforeKill: r.killed && version !== undefined && run?.status === "interrupted",
      problems
    }
    details.push(t)
    options.onTrial?.(t)
  }
  return {
    trials: options.trials,
    killedWithRun: details.filter((t) => t.killed && t.runId !== null).length,
    killedAfterEnd: details.filter((t) => t.killed && t.status !== null && t.status !== "interrupted").length,
    killedBeforeRun: details.filter((t) => t.killed && t.runId === null).length,
    finishedBeforeKill: details.filter((t) => !t.killed).length,
    interrupted: details.filter((t) => t.status === "interrupted").length,
    leftRunning: details.filter((t) => t.status === "running").length,
    promotedThenInterrupted: details.filter((t) => t.promotedBeforeKill && t.status === "interrupted").length,
    problems: details.reduce((n, t) => n + t.problems.length, 0),
    baselineMs: baseline.ms,
    pipelineMs,
    details
  }
}
