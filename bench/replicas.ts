/**
 * Serve replicas following the registry: `npm run bench -- replicas` (or, after `npm run build`,
 * `npx tsx bench/replicas.ts [--replicas 3] [--promotions 30] [--clients 2] [--target-p99-ms 1000]`).
 *
 * One PostgreSQL store (DRIFTGATE_BENCH_PG_URL or DRIFTGATE_TEST_PG_URL, else a throwaway cluster
 * from scripts/ci/postgres.sh start), a fresh database in it. Two iris versions are trained through
 * the built CLI (`driftgate run --store URL --approve auto`, twice), then N `driftgate serve`
 * replicas start, each with a workspace of its own. While every replica answers POST /predict/iris
 * from `--clients` closed-loop clients, this process promotes the other version to Production
 * (Registry.transition on the same store, the transaction the CLI's changes go through) again and
 * again. For each promotion: the time from the transaction's commit (the call returning) to every
 * replica answering with the new version (a response received, so an upper bound), and each
 * replica's requests meanwhile.
 *
 * The peer: the same replicas following by polling (the fallback, reading the head every 1 s) —
 * the figure LISTEN is there to beat — measured in the same run with DRIFTGATE_REGISTRY_FOLLOW=poll.
 *
 * Targets: p99 (LISTEN) < 1 s; no failed request on any replica; every replica answered requests
 * during every promotion. Exits 1 on a miss.
 */
import { spawn, spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { cpus, loadavg, tmpdir } from "node:os"
import { mkdtempSync, rmSync } from "node:fs"
import * as path from "node:path"
import { Effect, Layer, Option } from "effect"
import type * as Pg from "pg"
import { PostgresDatabaseLive } from "../src/layers/postgres/PostgresDatabase.js"
import { RegistryPostgres } from "../src/layers/registry/RegistryPostgres.js"
import { Registry } from "../src/services/Registry.js"
import { type ServeProcess, startServe } from "./serve/process.js"
import { exitOnTargets, type TargetCheck } from "./targets.js"

const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "bin/driftgate.js")
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const replicas = arg("replicas", 3)
const promotions = arg("promotions", 30)
const clients = arg("clients", 2)
const targetP99 = arg("target-p99-ms", 1000)
const pollPromotions = arg("poll-promotions", 6)
const say = (s: string) => process.stdout.write(`${s}\n`)

const pg = createRequire(import.meta.url)("pg") as typeof Pg
const row = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 }

const serverUrl = (): string => {
  const given = process.env["DRIFTGATE_BENCH_PG_URL"] ?? process.env["DRIFTGATE_TEST_PG_URL"] ?? ""
  if (given !== "") return given
  const r = spawnSync(path.join(root, "scripts/ci/postgres.sh"), ["start"], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`no PostgreSQL: set DRIFTGATE_BENCH_PG_URL (scripts/ci/postgres.sh: ${r.stderr})`)
  return r.stdout.trim()
}

const admin = async (url: string, sql: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

const cli = (args: ReadonlyArray<string>) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DRIFTGATE_WORKSPACE: "" },
    encoding: "utf8"
  })
  if (r.status !== 0) throw new Error(`driftgate ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN
}

/** A replica under load: who answered what, when. */
interface Probe {
  readonly serve: ServeProcess
  ok: number
  failed: number
  failures: string[]
  /** Receive time of the first response with `version` since `armed`. */
  seen: Map<number, number>
  armedAt: number
}

interface Round {
  readonly ms: number
  readonly perReplicaRequests: ReadonlyArray<number>
  readonly perReplicaMs: ReadonlyArray<number>
}

const runMode = async (
  url: string,
  mode: "listen" | "poll",
  rounds: number,
  versions: readonly [number, number],
  workspaces: string[]
) => {
  const env: Record<string, string> = mode === "poll" ? { DRIFTGATE_REGISTRY_FOLLOW: "poll" } : {}
  const serves: ServeProcess[] = []
  for (let i = 0; i < replicas; i++) {
    const ws = mkdtempSync(path.join(tmpdir(), "driftgate-replica-"))
    workspaces.push(ws)
    serves.push(
      await startServe(spawn, bin, root, ["--workspace", ws, "--store", url, "--port", "0", "--host", "127.0.0.1"], env)
    )
  }
  const probes: Probe[] = serves.map((serve) => ({
    serve,
    ok: 0,
    failed: 0,
    failures: [],
    seen: new Map(),
    armedAt: 0
  }))
  let stop = false
  const body = JSON.stringify({ features: row })
  const client = async (p: Probe) => {
    while (!stop) {
      try {
        const res = await fetch(`${p.serve.url}/predict/iris`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body
        })
        const at = performance.now()
        if (res.status !== 200) {
          p.failed++
          if (p.failures.length < 5) p.failures.push(`${res.status} ${await res.text()}`)
          continue
        }
        const v = ((await res.json()) as { version: number }).version
        p.ok++
        if (!p.seen.has(v)) p.seen.set(v, at)
      } catch (e) {
        p.failed++
        if (p.failures.length < 5) p.failures.push(String(e))
      }
    }
  }
  const loops = probes.flatMap((p) => Array.from({ length: clients }, () => client(p)))
  const started = performance.now()

  const layer = RegistryPostgres.pipe(Layer.provide(PostgresDatabaseLive(url)))
  const results: Round[] = []
  const missed: string[] = []
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const registry = yield* Registry
        for (let i = 0; i < rounds; i++) {
          // The version not in Production now (each mode starts wherever the last one left off).
          const current = yield* registry.getProduction("iris")
          const target = Option.isSome(current) && current.value.version === versions[0] ? versions[1] : versions[0]
          for (const p of probes) {
            p.seen = new Map()
            p.armedAt = performance.now()
          }
          const okBefore = probes.map((p) => p.ok)
          yield* registry.transition({
            name: "iris",
            version: target,
            to: "Production",
            actor: "bench",
            reason: `replicas bench round ${i + 1}`
          })
          const committed = performance.now()
          const deadline = committed + 10_000
          yield* Effect.promise(async () => {
            while (probes.some((p) => !p.seen.has(target)) && performance.now() < deadline)
              await new Promise((r) => setTimeout(r, 2))
          })
          if (probes.some((p) => !p.seen.has(target))) {
            missed.push(`round ${i + 1}: a replica did not serve version ${target} within 10 s`)
            continue
          }
          const perReplicaMs = probes.map((p) => p.seen.get(target)! - committed)
          results.push({
            ms: Math.max(...perReplicaMs),
            perReplicaMs,
            perReplicaRequests: probes.map((p, k) => p.ok - okBefore[k]!)
          })
          // A pause between promotions, so that each one lands on replicas at rest.
          yield* Effect.sleep(mode === "listen" ? 150 : 300)
        }
      }).pipe(Effect.provide(layer))
    )
  )
  stop = true
  await Promise.all(loops)
  const seconds = (performance.now() - started) / 1000
  const rps = probes.map((p) => p.ok / seconds)
  const codes = await Promise.all(serves.map((s) => s.stop()))
  return { results, missed, probes, codes, rps }
}

const main = async () => {
  const server = serverUrl()
  const dbName = `dg_bench_replicas_${process.pid}_${Date.now().toString(36)}`
  await admin(server, `CREATE DATABASE ${dbName}`)
  const u = new URL(server)
  u.pathname = `/${dbName}`
  const url = u.toString()
  const workspaces: string[] = []
  const checks: TargetCheck[] = []
  try {
    const trainer = mkdtempSync(path.join(tmpdir(), "driftgate-replica-train-"))
    workspaces.push(trainer)
    for (let i = 0; i < 2; i++)
      cli(["run", "--config", "configs/iris.yaml", "--workspace", trainer, "--store", url, "--approve", "auto"])
    const versions = [1, 2] as const
    say(
      `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, node ${process.version}, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`
    )
    say(`${replicas} replicas, ${clients} clients each, ${promotions} promotions (LISTEN), ${pollPromotions} (polling)`)

    const listen = await runMode(url, "listen", promotions, versions, workspaces)
    const poll = await runMode(url, "poll", pollPromotions, versions, workspaces)

    const line = (name: string, r: Awaited<ReturnType<typeof runMode>>) => {
      const ms = r.results.map((x) => x.ms)
      const requests = r.results.flatMap((x) => x.perReplicaRequests)
      const failed = r.probes.reduce((n, p) => n + p.failed, 0)
      const ok = r.probes.reduce((n, p) => n + p.ok, 0)
      say(
        `${name}: commit → all ${replicas} serving: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms over ${ms.length} promotions; requests answered ${ok}, failed ${failed}; per replica per promotion min ${Math.min(...requests)}; per replica ${r.rps.map((x) => x.toFixed(0)).join(" / ")} req/s`
      )
      return { ms, requests, failed }
    }
    const l = line("LISTEN (driftgate)", listen)
    const p = line("polling every 1 s (peer: the fallback)", poll)
    say(
      `load after: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`
    )
    const firstFailures = [...listen.probes, ...poll.probes].flatMap((x) => x.failures).slice(0, 3)

    checks.push({
      name: `commit → all ${replicas} replicas serving the promoted version, p99 (LISTEN)`,
      ok: listen.missed.length === 0 && l.ms.length === promotions ? percentile(l.ms, 99) < targetP99 : undefined,
      detail:
        listen.missed.length > 0
          ? listen.missed.join("; ")
          : `p99 ${percentile(l.ms, 99).toFixed(1)} ms, target < ${targetP99} ms (p50 ${percentile(l.ms, 50).toFixed(1)} ms; polling peer p50 ${percentile(p.ms, 50).toFixed(0)} ms, p99 ${percentile(p.ms, 99).toFixed(0)} ms)`
    })
    checks.push({
      name: "no failed request on any replica while promotions land",
      ok: l.failed + p.failed === 0,
      detail: `${l.failed + p.failed} failed${firstFailures.length ? ` (${firstFailures.join("; ")})` : ""}`
    })
    checks.push({
      name: "every replica answered requests during every promotion",
      ok: l.requests.length > 0 && Math.min(...l.requests) > 0,
      detail: `fewest answered by one replica during one promotion: ${Math.min(...l.requests)}`
    })
    checks.push({
      name: "replicas exit 0 on SIGTERM",
      ok: [...listen.codes, ...poll.codes].every((c) => c === 0),
      detail: `exit codes ${[...listen.codes, ...poll.codes].join(", ")}`
    })
  } finally {
    await admin(server, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined)
    for (const w of workspaces) rmSync(w, { recursive: true, force: true })
  }
  exitOnTargets(checks)
}

await main()
