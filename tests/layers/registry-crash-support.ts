/**
 * Shared by the registry tests, the crash child and bench/registry_crash.ts: valid lineage tags,
 * the registry's invariants as one check, child-process plumbing and the SIGKILL crash trials.
 */
import { replayProblems } from "../../src/domain/registry.js"
import { Context, Effect, Layer } from "effect"
import type { StoreError } from "../../src/domain/errors.js"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { createRequire } from "node:module"
import type * as Pg from "pg"
import { fileURLToPath } from "node:url"
import { dirname, resolve } from "node:path"
import { sha256Hex } from "../../src/domain/hash.js"
import { uuidv7 } from "../../src/domain/ids.js"
import { rng } from "../../src/domain/random.js"
import { RegistrySqlite } from "../../src/layers/registry/RegistrySqlite.js"
import { SqliteDatabase, SqliteDatabaseLive } from "../../src/layers/sqlite/SqliteDatabase.js"
import { isPostgresUrl, PostgresDatabase, PostgresDatabaseLive } from "../../src/layers/postgres/PostgresDatabase.js"
import { RegistryPostgres } from "../../src/layers/registry/RegistryPostgres.js"
import { type PromoteInput, Registry } from "../../src/services/Registry.js"

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
export const CHILD = resolve(REPO_ROOT, "tests/layers/registry-crash-child.ts")

let counter = 0
/** A fresh run id (UUIDv7) and a full, valid set of lineage anchors for it. */
export const anchors = (runId: string = uuidv7(Date.now())): Record<string, string> => ({
  execution_id: uuidv7(Date.now()),
  config_hash: sha256Hex(`config ${counter++}`),
  dataset_version: sha256Hex("dataset"),
  random_seed: "42",
  run_id: runId,
  driftgate_version: "0.1.0",
  code_revision: "unknown"
})

export const promoteInput = (name: string, extra: Partial<PromoteInput> = {}): PromoteInput => {
  const runId = uuidv7(Date.now())
  return {
    name,
    runId,
    artifactPath: `artifacts/${runId}/model`,
    tags: anchors(runId),
    actor: "tester",
    reason: "passed all rules",
    ...extra
  }
}

/**
 * Every invariant the registry promises, as a list of broken ones (empty when all hold): at most
 * one Production version per model, version numbers 1..n, the audit chain verifies, and the
 * audit log explains the state (replaying its stage changes and alias moves gives the stored
 * stages and aliases, which fails if a change and its audit record were not written together).
 */
export const registryProblems = Effect.gen(function* () {
  const registry = yield* Registry
  const problems: string[] = []
  const verdict = yield* registry.verify()
  if (!verdict.ok) problems.push(...verdict.problems.map((p) => `chain: ${p}`))
  const audit = yield* registry.audit()
  for (const model of yield* registry.listModels()) {
    const versions = yield* registry.listVersions(model.name)
    const production = versions.filter((v) => v.stage === "Production")
    if (production.length > 1) problems.push(`${model.name}: ${production.length} versions in Production`)
    versions.forEach((v, i) => {
      if (v.version !== i + 1)
        problems.push(
          `${model.name}: version numbers are not contiguous (${versions.map((x) => x.version).join(", ")})`
        )
    })
    problems.push(...replayProblems(audit, model.name, versions))
  }
  return problems
})

/** The registry on a store file, with the database handle exposed for checks that go around it. */
export const sqliteRegistry = (path: string) => RegistrySqlite.pipe(Layer.provideMerge(SqliteDatabaseLive(path)))

/** The registry on a PostgreSQL URL, with its handle exposed the same way. */
export const postgresRegistry = (url: string) => RegistryPostgres.pipe(Layer.provideMerge(PostgresDatabaseLive(url)))

/**
 * The registry on `target` (a store.db path or a postgres:// URL) and one raw query around it, for
 * the checks that must not trust the layer's own read path.
 */
export const storeRegistry = (target: string): Layer.Layer<Registry | RawQuery, StoreError> => {
  if (isPostgresUrl(target)) {
    const db = PostgresDatabaseLive(target)
    const raw = Layer.effect(
      RawQuery,
      Effect.map(PostgresDatabase, (pg) => ({
        all: (sql: string, ...values: ReadonlyArray<unknown>) => {
          let i = 0
          return pg.query(
            "raw",
            sql.replace(/\?/g, () => `$${++i}`),
            values
          )
        }
      }))
    )
    return Layer.merge(RegistryPostgres, raw).pipe(Layer.provide(db))
  }
  const db = SqliteDatabaseLive(target)
  const raw = Layer.effect(
    RawQuery,
    Effect.map(SqliteDatabase, (sql) => ({
      all: (text: string, ...values: ReadonlyArray<unknown>) =>
        sql.query("raw", (d) => d.prepare(text).all(...values) as ReadonlyArray<Record<string, unknown>>)
    }))
  )
  return Layer.merge(RegistrySqlite, raw).pipe(Layer.provide(db))
}

/** A raw query on whichever store a test runs against ("?" placeholders). */
export class RawQuery extends Context.Tag("test/RawQuery")<
  RawQuery,
  {
    readonly all: (
      sql: string,
      ...values: ReadonlyArray<unknown>
    ) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, StoreError>
  }
>() {}

/** `node --import tsx` is what `npx tsx` runs, without npx's own start-up. */
export const spawnChild = (args: ReadonlyArray<string>): ChildProcessWithoutNullStreams =>
  spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] })

/** Collects a child's stdout lines and stderr; `waitFor` resolves once a line passes the test. */
export const watch = (child: ChildProcessWithoutNullStreams) => {
  const lines: string[] = []
  let stderr = ""
  let partial = ""
  const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = []
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop() ?? ""
    for (const line of parts) {
      lines.push(line)
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("exit", (code, signal) => res({ code, signal }))
  )
  const waitFor = (test: (l: string) => boolean, timeoutMs: number) =>
    new Promise<string>((res, rej) => {
      const seen = lines.find(test)
      if (seen !== undefined) return res(seen)
      const timer = setTimeout(
        () => rej(new Error(`child did not print the expected line within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs
      )
      void exited.then(({ code, signal }) =>
        rej(new Error(`child exited (code ${code}, signal ${signal}) before the expected line; stderr: ${stderr}`))
      )
      waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer)
          res(l)
        }
      })
    })
  return { lines, stderr: () => stderr, exited, waitFor }
}

/**
 * Starts one OS process per entry of `counts` on the same store (a store.db path or a postgres:// URL), waits until every one has the
 * store open, releases them together and returns the versions each one registered.
 */
export const promoteConcurrently = async (path: string, model: string, counts: ReadonlyArray<number>) => {
  const children = counts.map((n) => {
    const child = spawnChild(["promote", path, model, String(n)])
    return { child, out: watch(child) }
  })
  await Promise.all(children.map(({ out }) => out.waitFor((l) => l === "ready", 120_000)))
  for (const { child } of children) child.stdin.write("go\n")
  const done = await Promise.all(children.map(({ out }) => out.waitFor((l) => l.startsWith("done "), 120_000)))
  const exits = await Promise.all(children.map(({ out }) => out.exited))
  // plain code, not vitest's expect: the crash child and the bench import this module too
  const failed = exits.map((e, i) => ({ ...e, i })).filter((e) => e.code !== 0)
  if (failed.length > 0)
    throw new Error(
      `child process(es) ${failed.map((e) => e.i).join(", ")} exited with ${failed.map((e) => e.code ?? e.signal).join(", ")}: ${children[failed[0]!.i]!.out.stderr()}`
    )
  return done.map((l) => JSON.parse(l.slice("done ".length)) as Array<number>)
}

export interface CrashTrial {
  readonly trial: number
  /** Killed right after the child reported a begun rollback, rather than at a random moment. */
  readonly stalled: boolean
  readonly killAfterMs: number
  readonly versions: number
  /** Intent ids found pending after the kill (the rollback was interrupted between its two steps). */
  readonly pending: ReadonlyArray<string>
  readonly problems: ReadonlyArray<string>
}

export interface CrashSummary {
  readonly trials: number
  readonly invariantViolations: number
  readonly chainFailures: number
  readonly openFailures: number
  readonly interruptedRollbacksDetected: number
  /** The child had begun a rollback and not finished it, yet the store shows no trace of the intent. */
  readonly interruptedRollbacksMissed: number
  readonly recoveredRollbacks: number
  readonly finalVersions: number
  readonly details: ReadonlyArray<CrashTrial>
}

const MODEL = "crashy"

/** After a kill: open, check, and finish any interrupted rollback the way the CLI would on its next run. */
const inspect = (path: string, inFlight: string | undefined) =>
  Effect.gen(function* () {
    const registry = yield* Registry
    const sql = yield* RawQuery
    const problems: string[] = []
    let chainFailed = false
    const check = (when: string) =>
      Effect.gen(function* () {
        for (const p of yield* registryProblems) {
          if (p.startsWith("chain:")) chainFailed = true
          problems.push(`${when}: ${p}`)
        }
        const prod = yield* registry.getProduction(MODEL)
        const versions = yield* registry.listVersions(MODEL)
        const champion = versions.find((v) => v.aliases.includes("champion"))
        if (prod._tag === "Some" && champion?.version !== prod.value.version) {
          problems.push(
            `${when}: champion is on version ${champion?.version}, Production is version ${prod.value.version}`
          )
        }
      })
    yield* check("after the kill")
    // Around the API as well, in case a read path hid a second Production row.
    const doubled = yield* sql.all(
      "SELECT name FROM model_versions WHERE stage = 'Production' GROUP BY name HAVING COUNT(*) > 1"
    )
    if (doubled.length > 0) problems.push("after the kill: two Production rows in model_versions")

    const pending = yield* registry.pendingRollbacks()
    let missed = 0
    if (inFlight !== undefined && !pending.some((i) => i.id === inFlight)) {
      const status = (yield* sql.all("SELECT status FROM rollback_intents WHERE id = ?", inFlight))[0]?.["status"] as
        string | undefined
      // Killed after the commit but before the child printed "completed": not a miss.
      if (status !== "completed" && status !== "abandoned") {
        missed = 1
        problems.push(`rollback ${inFlight} was begun but is ${status ?? "absent"} in the store`)
      }
    }
    const prodBefore = yield* registry.getProduction(MODEL)
    for (const intent of pending) {
      const target = (yield* registry.listVersions(MODEL)).find((v) => v.version === intent.toVersion)
      if (target?.stage === "Production")
        problems.push(`intent ${intent.id} is pending but its target is already in Production`)
      const current = prodBefore._tag === "Some" ? prodBefore.value.version : null
      if (current !== intent.fromVersion)
        problems.push(`intent ${intent.id} was begun from version ${intent.fromVersion}, Production is ${current}`)
      const done = yield* registry.completeRollback(intent.id)
      if (done.stage !== "Production" || !done.aliases.includes("champion"))
        problems.push(`recovering ${intent.id} left version ${done.version} ${done.stage}`)
    }
    if (pending.length > 0) yield* check("after recovery")
    const versions = (yield* registry.listVersions(MODEL)).length
    return { problems, chainFailed, pending: pending.map((i) => i.id), missed, versions }
  }).pipe(Effect.provide(storeRegistry(path)))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * On PostgreSQL, waits until no other session is connected to the store's database: a killed client's
 * server session may still be running the statement it had sent (a rollback's completing COMMIT), and
 * commits it before it notices the closed socket. Inspecting before that would read a state the server
 * is about to change (an intent pending, then completed by the dead client's session). Returns whether
 * the sessions ended within the time.
 */
const otherSessionsGone = async (url: string, timeoutMs = 15_000): Promise<boolean> => {
  const pg = createRequire(import.meta.url)("pg") as typeof Pg
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(20)) {
      const r = await c.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
      )
      if ((r.rows[0] as { n: number }).n === 0) return true
    }
    return false
  } finally {
    await c.end()
  }
}

/**
 * `trials` times: start the child's promote/rollback loop on `path`, SIGKILL it after a random
 * delay, then open the store and check it. Trials share the store, so each one also exercises
 * opening a store that a killed process left behind (WAL recovery) and resuming work on it.
 */
export const runCrashTrials = async (options: {
  readonly path: string
  readonly trials: number
  readonly seed: number
  readonly maxKillDelayMs?: number
  /** Every n-th trial stalls inside a rollback before the kill, so detection is exercised for certain. */
  readonly stallEvery?: number
  readonly onTrial?: (t: CrashTrial) => void
}): Promise<CrashSummary> => {
  const random = rng(options.seed)
  const details: CrashTrial[] = []
  let invariantViolations = 0,
    chainFailures = 0,
    openFailures = 0,
    detected = 0,
    missed = 0,
    recovered = 0,
    finalVersions = 0
  for (let trial = 1; trial <= options.trials; trial++) {
    const stalled = options.stallEvery !== undefined && trial % options.stallEvery === 0
    const child = spawnChild([
      "crash-loop",
      options.path,
      MODEL,
      String(options.seed * 1000 + trial),
      ...(stalled ? ["stall"] : [])
    ])
    const out = watch(child)
    await out.waitFor((l) => l === "ready", 120_000)
    const killAfterMs = Math.round(random.next() * (options.maxKillDelayMs ?? 250))
    if (stalled) await out.waitFor((l) => l.startsWith("began "), 30_000)
    else await sleep(killAfterMs)
    child.kill("SIGKILL")
    const exit = await out.exited
    const problems: string[] = []
    if (isPostgresUrl(options.path) && !(await otherSessionsGone(options.path)))
      problems.push("the killed child's server session was still open after 15 s")
    if (exit.signal !== "SIGKILL")
      problems.push(`the child was not killed but exited (code ${exit.code}): ${out.stderr()}`)
    // The rollback the child had begun and not yet reported finished, if any.
    let inFlight: string | undefined
    for (const line of out.lines) {
      const [word, id] = line.split(" ")
      if (word === "began") inFlight = id
      else if ((word === "completed" || word === "abandoned") && id === inFlight) inFlight = undefined
    }
    const result = await Effect.runPromise(Effect.either(inspect(options.path, inFlight)))
    let pending: ReadonlyArray<string> = []
    let versions = 0
    if (result._tag === "Left") {
      openFailures++
      problems.push(`the store could not be opened or read: ${result.left.message}`)
    } else {
      const r = result.right
      problems.push(...r.problems)
      if (r.chainFailed) chainFailures++
      if (r.problems.some((p) => !p.includes("chain:"))) invariantViolations++
      detected += r.pending.length
      recovered += r.pending.length
      missed += r.missed
      pending = r.pending
      versions = r.versions
      finalVersions = versions
    }
    if (stalled && pending.length === 0)
      problems.push("the child was killed inside a rollback, yet no rollback is pending")
    const t: CrashTrial = { trial, stalled, killAfterMs, versions, pending, problems }
    details.push(t)
    options.onTrial?.(t)
  }
  return {
    trials: options.trials,
    invariantViolations,
    chainFailures,
    openFailures,
    interruptedRollbacksDetected: detected,
    interruptedRollbacksMissed: missed,
    recoveredRollbacks: recovered,
    finalVersions,
    details
  }
}
