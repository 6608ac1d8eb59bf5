import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { readPredictionLog } from "../../src/programs/serve/predictionLog.js"
import { bin, cli, root, tempWorkspace } from "./helpers.js"

// Spawns the built CLI (npm test builds it first; alone: `npm run build`).
const TOKEN = "e2e-token-4f1c"

interface Served {
  readonly url: string
  readonly child: ChildProcess
  readonly exit: Promise<number | null>
  readonly stderr: () => string
}

const startServe = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "serve", ...args], {
      cwd: root,
      env: { ...process.env, DRIFTGATE_WORKSPACE: "", DRIFTGATE_ADMIN_TOKEN: "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = "",
      err = ""
    const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve did not start: ${err}`))
    }, 20_000)
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString()
    })
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!, child, exit, stderr: () => err })
      }
    })
    void exit.then((code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code} before listening: ${err}`))
    })
  })

const running: Served[] = []
let ws = ""
let row: Record<string, number> = {}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, "dist/cli.js")))
    throw new Error("dist/cli.js is missing: run `npm run build` before the e2e tests")
  ws = tempWorkspace()
  const r = cli(["run", "--config", "configs/breast_cancer.yaml", "--approve", "auto", "--workspace", ws])
  expect(r.code, r.stderr).toBe(0)
  const lines = fs.readFileSync(path.join(root, "data/raw/breast_cancer/data.csv"), "utf8").split("\n")
  const header = lines[0]!.split(",")
  row = Object.fromEntries(
    lines[1]!.split(",").flatMap((c, i) => (header[i] === "diagnosis" ? [] : [[header[i]!, Number(c)]]))
  )
}, 60_000)

afterAll(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill("SIGKILL")
  fs.rmSync(ws, { recursive: true, force: true })
})

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body)
  })

/** Sends the headers and half the body, waits, then the rest: a request in flight across SIGTERM. */
const slowRequest = (url: string, body: string, sendRest: Promise<void>): Promise<string> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const socket = net.connect(Number(u.port), u.hostname)
    let response = ""
    socket.on("data", (d) => {
      response += d.toString()
    })
    socket.on("end", () => resolve(response))
    socket.on("error", reject)
    socket.write(
      `POST /predict/breast-cancer HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`
    )
    const half = Math.floor(body.length / 2)
    socket.write(body.slice(0, half))
    void sendRest.then(() => socket.write(body.slice(half)))
  })

describe("driftgate serve (real sockets)", () => {
  it("predicts over HTTP, reloads under load without a failed request, and on SIGTERM finishes in-flight work, writes the log, exits 0", async () => {
    const s = await startServe(["--workspace", ws, "--port", "0", "--host", "127.0.0.1"], {
      DRIFTGATE_ADMIN_TOKEN: TOKEN
    })
    running.push(s)
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${s.url}/ready`)).status).toBe(200)

    const one = await post(`${s.url}/predict/breast-cancer`, { features: row })
    expect(one.status).toBe(200)
    const body = (await one.json()) as { prediction: string; version: number; stage: string }
    expect(body).toMatchObject({ prediction: "malignant", version: 1, stage: "Production" })
    let rows = 1

    expect((await post(`${s.url}/admin/reload`, {})).status).toBe(401)
    expect((await post(`${s.url}/admin/reload`, {}, { authorization: `Bearer ${TOKEN}` })).status).toBe(200)

    // reload under load: 8 clients for 1.5 s while the set is swapped 5 times
    const deadline = Date.now() + 1500
    const statuses = new Map<string, number>()
    const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1)
    const client = async (i: number) => {
      while (Date.now() < deadline) {
        const batch = i % 2 === 0
        try {
          const res = await post(
            `${s.url}/predict/breast-cancer`,
            batch ? { rows: [row, row, row] } : { features: row }
          )
          await res.arrayBuffer()
          count(String(res.status))
          if (res.status === 200) rows += batch ? 3 : 1
        } catch (e) {
          count(`error: ${e instanceof Error ? e.message : String(e)}`)
        }
      }
    }
    const reloads = (async () => {
      const codes: number[] = []
      for (let k = 0; k < 5; k++) {
        await new Promise((r) => setTimeout(r, 200))
        const res = await post(`${s.url}/admin/reload`, {}, { authorization: `Bearer ${TOKEN}` })
        codes.push(res.status)
      }
      return codes
    })()
    await Promise.all(Array.from({ length: 8 }, (_, i) => client(i)))
    expect(await reloads).toEqual([200, 200, 200, 200, 200])
    expect([...statuses.keys()]).toEqual(["200"])
    expect(statuses.get("200")!).toBeGreaterThan(20)

    const metrics = await (await fetch(`${s.url}/metrics`)).text()
    expect(metrics).toContain('driftgate_reloads_total{outcome="success"} 6')

    // a request in flight when SIGTERM arrives is still answered
    let sendRest!: () => void
    const rest = new Promise<void>((r) => {
      sendRest = r
    })
    const inflight = slowRequest(s.url, JSON.stringify({ features: row }), rest)
    await new Promise((r) => setTimeout(r, 150))
    s.child.kill("SIGTERM")
    await new Promise((r) => setTimeout(r, 150))
    sendRest()
    expect(await inflight).toMatch(/^HTTP\/1\.1 200 /)
    rows += 1
    expect(await s.exit).toBe(0)
    expect(s.stderr()).toContain("driftgate serve: stopped")

    const logged = await Effect.runPromise(readPredictionLog(ws, "breast-cancer"))
    expect(logged).toHaveLength(rows)
    expect(logged[0]).toMatchObject({ model: "breast-cancer", version: 1, prediction: "malignant", features: row })
    const files = fs.readdirSync(path.join(ws, "serving/predictions/breast-cancer"))
    expect(files).toEqual([`${logged[0]!.ts.slice(0, 10)}.jsonl`])
  }, 60_000)

  it("starts with zero models (ready 503 with the reason) and stops on SIGINT (Ctrl-C) with exit 130, after a graceful stop", async () => {
    const empty = tempWorkspace()
    try {
      const s = await startServe(["--workspace", empty, "--port", "0"])
      running.push(s)
      const ready = await fetch(`${s.url}/ready`)
      expect(ready.status).toBe(503)
      expect(((await ready.json()) as { reason: string }).reason).toBe(
        "no model is loaded at stage Production: no model is registered"
      )
      expect((await fetch(`${s.url}/health`)).status).toBe(200)
      expect((await post(`${s.url}/admin/reload`, {}, { authorization: "Bearer x" })).status).toBe(403)
      s.child.kill("SIGINT")
      expect(await s.exit).toBe(130)
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
  }, 30_000)

  it("refuses a serve config with an unknown key (exit 64, naming the key)", () => {
    const dir = tempWorkspace()
    try {
      const file = path.join(dir, "serve.yaml")
      fs.writeFileSync(file, "port: 0\nmax_batch_row: 10\n")
      const r = cli(["serve", "--config", file, "--workspace", dir])
      expect(r.code).toBe(64)
      expect(r.stderr).toContain(`driftgate: ${file}: unknown key "max_batch_row" (did you mean "max_batch_rows"?)`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("serves from a read-only workspace (store snapshot) and a reload sees a promotion made elsewhere", async () => {
    const own = tempWorkspace()
    try {
      expect(cli(["run", "--config", "configs/iris.yaml", "--approve", "auto", "--workspace", own]).code).toBe(0)
      const s = await startServe(["--workspace", own, "--port", "0"], {
        DRIFTGATE_STORE_READONLY: "1",
        DRIFTGATE_ADMIN_TOKEN: TOKEN
      })
      running.push(s)
      const before = (await (await fetch(`${s.url}/models`)).json()) as
        { models: Array<{ name: string; version: number }> } | Array<{ name: string; version: number }>
      const list = (x: typeof before) => (Array.isArray(x) ? x : x.models)
      expect(list(before).find((m) => m.name === "iris")?.version).toBe(1)
      const cfg = path.join(own, "iris8.yaml")
      fs.writeFileSync(
        cfg,
        `data_root: ${path.join(root, "data/raw")}\n` +
          fs.readFileSync(path.join(root, "configs/iris.yaml"), "utf8").replace("random_seed: 7", "random_seed: 8")
      )
      expect(cli(["run", "--config", cfg, "--approve", "auto", "--workspace", own]).code).toBe(0)
      expect((await post(`${s.url}/admin/reload`, {}, { authorization: `Bearer ${TOKEN}` })).status).toBe(200)
      const after = (await (await fetch(`${s.url}/models`)).json()) as typeof before
      expect(list(after).find((m) => m.name === "iris")?.version).toBe(2)
      s.child.kill("SIGTERM")
      expect(await s.exit).toBe(0)
    } finally {
      fs.rmSync(own, { recursive: true, force: true })
    }
  }, 60_000)
})
