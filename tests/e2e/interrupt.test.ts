import { afterAll, describe, expect, it } from "vitest"
import Database from "better-sqlite3"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { bin, cli, root, tempWorkspace } from "./helpers.js"

// SIGINT reaches the command's fiber (NodeRuntime.runMain): every finalizer runs before the exit.

interface Spawned {
  readonly child: ChildProcess
  readonly exit: Promise<number | null>
  readonly stdout: () => string
  readonly stderr: () => string
}

const start = (args: ReadonlyArray<string>): Spawned => {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DRIFTGATE_WORKSPACE: "", DRIFTGATE_ADMIN_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = "",
    err = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
  return { child, exit, stdout: () => out, stderr: () => err }
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The store after the process is gone: intact, and closed (a clean close checkpoints and removes the WAL). */
const storeState = (ws: string) => {
  const file = path.join(ws, "store.db")
  const walLeft = fs.existsSync(`${file}-wal`) && fs.statSync(`${file}-wal`).size > 0
  const db = new Database(file, { readonly: true })
  try {
    const integrity = db.pragma("integrity_check", { simple: true })
    const running = (db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n
    return { integrity, walLeft, runs: running }
  } finally {
    db.close()
  }
}

const spawned: Spawned[] = []
const dirs: string[] = []
afterAll(() => {
  for (const s of spawned) if (s.child.exitCode === null) s.child.kill("SIGKILL")
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

describe("SIGINT", () => {
  it("during a long run: exit 130, 'interrupted', the store intact and closed", async () => {
    const ws = tempWorkspace()
    dirs.push(ws)
    // a forest big enough that the run is still training when the signal arrives
    const config = path.join(ws, "big-forest.yaml")
    fs.writeFileSync(
      config,
      `data_root: ${path.join(root, "data/raw")}\n` +
        fs
          .readFileSync(path.join(root, "configs/breast_cancer.yaml"), "utf8")
          .replace("n_estimators: 100", "n_estimators: 1500, n_jobs: 1")
    )
    const run = start(["run", "--config", config, "--workspace", ws, "--approve", "auto"])
    spawned.push(run)
    // the run is tracked and preparing its data once the dataset folder appears
    await until("the run to start", () => fs.existsSync(path.join(ws, "datasets")), 60_000)
    run.child.kill("SIGINT")
    const code = await run.exit
    expect(code, run.stderr()).toBe(130)
    expect(run.stderr()).toContain("driftgate: interrupted")
    expect(run.stdout()).not.toContain("completed")
    const s = storeState(ws)
    expect(s.integrity).toBe("ok")
    expect(s.walLeft).toBe(false)
    expect(s.runs).toBe(1)
  }, 120_000)

  it("during serve: requests answered before it are all in the prediction log, the store is closed, exit 130 (SIGTERM is serve's exit-0 stop)", async () => {
    const ws = tempWorkspace()
    dirs.push(ws)
    const trained = cli(["run", "--config", "configs/iris.yaml", "--approve", "auto", "--workspace", ws])
    expect(trained.code, trained.stderr).toBe(0)
    const s = start(["serve", "--workspace", ws, "--port", "0", "--host", "127.0.0.1"])
    spawned.push(s)
    await until("serve to listen", () => /listening on (http:\/\/\S+)/.test(s.stdout()), 30_000)
    const url = /listening on (http:\/\/\S+)/.exec(s.stdout())![1]!
    const lines = fs.readFileSync(path.join(root, "data/raw/iris/data.csv"), "utf8").trim().split("\n")
    const header = lines[0]!.split(",")
    const target = header.length - 1
    const rows = lines
      .slice(1, 8)
      .map((l) => Object.fromEntries(l.split(",").flatMap((c, i) => (i === target ? [] : [[header[i]!, Number(c)]]))))
    let sent = 0
    for (const features of rows) {
      const res = await fetch(`${url}/predict/iris`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features })
      })
      expect(res.status, await res.text()).toBe(200)
      sent += 1
    }
    // the log is flushed every second: these rows are still queued when the signal arrives
    s.child.kill("SIGINT")
    expect(await s.exit).toBe(130)
    expect(s.stderr()).toContain("driftgate serve: stopped")
    const dir = path.join(ws, "serving/predictions/iris")
    const logged = fs
      .readdirSync(dir)
      .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n"))
      .filter((l) => l !== "")
    expect(logged).toHaveLength(sent)
    const st = storeState(ws)
    expect(st.integrity).toBe("ok")
    expect(st.walLeft).toBe(false)
  }, 120_000)
})
