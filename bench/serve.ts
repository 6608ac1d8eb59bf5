/**
 * Prediction service benchmark: `driftgate serve` as a child process, driven by autocannon.
 *
 *   npm run build && npx tsx bench/serve.ts              10 s per scenario
 *   npx tsx bench/serve.ts --duration 5 --connections 16 --json
 *
 * Builds a temp workspace with the breast-cancer random forest (100 trees) in Production through
 * the built CLI (`driftgate run --approve auto`), starts `driftgate serve` on 127.0.0.1 with an
 * ephemeral port and the prediction log on, warms it up, then measures for a fixed time:
 *   single   POST /predict/breast-cancer {"features": {...}}        one row per request
 *   batch    POST /predict/breast-cancer {"rows": [100 rows]}        100 rows per request
 * Each connection sends its own real row (or 100 rows) of data/raw/breast_cancer/data.csv. The client
 * (autocannon) runs in this process, on the same machine: on 2 cores it competes with the server for CPU.
 * Target (single): ≥ 5,000 req/s with p99 < 20 ms (`--target-rps N --target-p99-ms M` override it); every request
 * answered 2xx, no prediction-log row dropped, serve exits 0 on SIGTERM. Exits 1 when any of these is missed.
 */
import autocannon from "autocannon"
import { spawn, spawnSync } from "node:child_process"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { startServe, type ServeProcess } from "./serve/process.js"
import { exitOnTargets, type TargetCheck } from "./targets.js"

const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "bin/driftgate.js")

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const duration = arg("duration", 10)
/** The stated target for single rows (overridable, e.g. to show that a miss fails the bench). */
const targetRps = arg("target-rps", 5000)
const targetP99 = arg("target-p99-ms", 20)
const connections = arg("connections", 10)
const json = process.argv.includes("--json")
const say = (s: string) => {
  if (!json) process.stderr.write(`${s}\n`)
}

interface Scenario {
  readonly name: string
  readonly rowsPerRequest: number
  readonly bodies: ReadonlyArray<string>
}

interface Result {
  readonly scenario: string
  readonly rows_per_request: number
  readonly connections: number
  readonly duration_s: number
  readonly requests: number
  readonly req_per_s: number
  readonly rows_per_s: number
  readonly p50_ms: number
  readonly p90_ms: number
  readonly p99_ms: number
  readonly max_ms: number
  readonly non_2xx: number
  readonly errors: number
  readonly timeouts: number
}

/** Newlines in a file, read in chunks (the log of a run can exceed the largest string V8 makes). */
const countLines = (file: string): number => {
  const fd = openSync(file, "r")
  const buf = Buffer.allocUnsafe(1 << 20)
  let n = 0
  try {
    for (let got = readSync(fd, buf); got > 0; got = readSync(fd, buf)) {
      for (let i = 0; i < got; i++) if (buf[i] === 10) n++
    }
  } finally {
    closeSync(fd)
  }
  return n
}

const readRows = (): Array<Record<string, number>> => {
  const lines = readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8").trim().split("\n")
  const header = lines[0]!.split(",")
  return lines.slice(1).map((l) => {
    const cells = l.split(",")
    const row: Record<string, number> = {}
    header.forEach((h, i) => {
      if (h !== "diagnosis") row[h] = Number(cells[i])
    })
    return row
  })
}

const drive = (url: string, s: Scenario, seconds: number): Promise<autocannon.Result> => {
  // one fixed body per connection: autocannon prebuilds it, so the client spends little CPU per request
  // (on 2 cores the client competes with the server)
  let k = 0
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/predict/breast-cancer`,
        method: "POST",
        connections,
        pipelining: 1,
        duration: seconds,
        headers: { "content-type": "application/json" },
        body: s.bodies[0]!,
        setupClient: (client) => {
          client.setBody(s.bodies[k++ % s.bodies.length]!)
        }
      },
      (err, result) => (err ? reject(err) : resolve(result))
    )
  })
}

const summarise = (s: Scenario, r: autocannon.Result): Result => ({
  scenario: s.name,
  rows_per_request: s.rowsPerRequest,
  connections,
  duration_s: r.duration,
  requests: r.requests.total,
  req_per_s: Math.round(r.requests.total / r.duration),
  rows_per_s: Math.round((r.requests.total * s.rowsPerRequest) / r.duration),
  p50_ms: r.latency.p50,
  p90_ms: r.latency.p90,
  p99_ms: r.latency.p99,
  max_ms: r.latency.max,
  non_2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts
})

const main = async () => {
  if (!existsSync(path.join(root, "dist/cli.js"))) throw new Error("dist/cli.js is missing: run `npm run build` first")
  const ws = mkdtempSync(path.join(os.tmpdir(), "driftgate-bench-serve-"))
  let server: ServeProcess | undefined
  try {
    say(`workspace ${ws}: training breast-cancer (random forest) ...`)
    const run = spawnSync(
      process.execPath,
      [bin, "run", "--config", "configs/breast_cancer.yaml", "--approve", "auto", "--workspace", ws],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, DRIFTGATE_WORKSPACE: "" }
      }
    )
    if (run.status !== 0) throw new Error(`driftgate run failed (${run.status}): ${run.stderr}`)

    server = await startServe(spawn, bin, root, [
      "--workspace",
      ws,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--config",
      "configs/serve.yaml"
    ])
    say(`serving at ${server.url}`)

    const data = readRows()
    const single: Scenario = {
      name: "single",
      rowsPerRequest: 1,
      bodies: data.slice(0, 64).map((features) => JSON.stringify({ features }))
    }
    const batch: Scenario = {
      name: "batch",
      rowsPerRequest: 100,
      bodies: Array.from({ length: 64 }, (_, k) =>
        JSON.stringify({ rows: Array.from({ length: 100 }, (_, j) => data[(k * 7 + j) % data.length]!) })
      )
    }
    const results: Result[] = []
    let answeredRows = 0
    for (const s of [single, batch]) {
      say(`${s.name}: warm-up 2 s, then ${duration} s with ${connections} connections ...`)
      const warm = await drive(server.url, s, 2)
      const measured = await drive(server.url, s, duration)
      answeredRows += (warm["2xx"] + measured["2xx"]) * s.rowsPerRequest
      results.push(summarise(s, measured))
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    const droppedRows = Number(/^driftgate_prediction_log_dropped_rows_total (\d+)/m.exec(metrics)?.[1] ?? NaN)

    const code = await server.stop()
    server = undefined
    const logDir = path.join(ws, "serving/predictions/breast-cancer")
    const logged = existsSync(logDir)
      ? readdirSync(logDir).reduce((n, f) => n + countLines(path.join(logDir, f)), 0)
      : 0
    const machine = {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`
    }
    const s = results[0]!
    const checks: TargetCheck[] = [
      {
        name: "single rows",
        ok: s.req_per_s >= targetRps && s.p99_ms < targetP99,
        detail: `${s.req_per_s} req/s (target ≥ ${targetRps}), p99 ${s.p99_ms} ms (target < ${targetP99} ms)`
      },
      ...results.map((r) => ({
        name: `${r.scenario}: every request answered`,
        ok: r.non_2xx === 0 && r.errors + r.timeouts === 0,
        detail: `${r.non_2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`
      })),
      {
        name: "prediction log",
        ok: Number.isNaN(droppedRows) ? undefined : droppedRows === 0,
        detail: Number.isNaN(droppedRows)
          ? "driftgate_prediction_log_dropped_rows_total missing from /metrics"
          : `${droppedRows} rows dropped`
      },
      { name: "serve stops cleanly on SIGTERM", ok: code === 0, detail: `exit code ${code}` }
    ]
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ machine, results, answered_rows: answeredRows, prediction_log_rows: logged, prediction_log_dropped_rows: droppedRows, serve_exit_code: code }, null, 2)}\n`
      )
      exitOnTargets(checks, (l) => process.stderr.write(`${l}\n`))
      return
    }
    const row = (cells: ReadonlyArray<string | number>) =>
      cells.map((c, i) => (i === 0 ? String(c).padEnd(8) : String(c).padStart(10))).join(" ")
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`)
    console.log(
      `autocannon: ${connections} connections, pipelining 1, ${duration} s per scenario (after a 2 s warm-up); prediction log on`
    )
    console.log(
      row(["scenario", "rows/req", "req/s", "rows/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx", "errors"])
    )
    for (const r of results)
      console.log(
        row([
          r.scenario,
          r.rows_per_request,
          r.req_per_s,
          r.rows_per_s,
          r.p50_ms,
          r.p90_ms,
          r.p99_ms,
          r.max_ms,
          r.non_2xx,
          r.errors + r.timeouts
        ])
      )
    console.log(
      `prediction log: ${logged} rows written for ${answeredRows} rows answered (warm-ups included; autocannon does not count the ≤ ${connections} requests in flight when a run stops), ${droppedRows} dropped; serve exited ${code}`
    )
    exitOnTargets(checks)
  } finally {
    if (server !== undefined) await server.stop()
    rmSync(ws, { recursive: true, force: true })
  }
}

main().catch((e) => {
  process.stderr.write(`bench/serve: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
