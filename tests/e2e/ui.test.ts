import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { bin, cli, root, tempWorkspace } from "./helpers.js"

/** `driftgate ui`: the dashboard alone, read-only, stopped like serve. */
describe("driftgate ui", () => {
  it("on a missing workspace: exit 1 with one sentence, and nothing is created", () => {
    const ws = path.join(tempWorkspace(), "nothing-here")
    const r = cli(["ui", "--port", "0", "--workspace", ws])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(fs.existsSync(ws)).toBe(false)
  })

  it("serves the pages of a workspace and stops on SIGTERM with exit 0", async () => {
    const ws = tempWorkspace()
    expect(cli(["run", "--config", "configs/iris.yaml", "--approve", "auto", "--workspace", ws]).code).toBe(0)
    const child = spawn(process.execPath, [bin, "ui", "--port", "0", "--workspace", ws], {
      cwd: root,
      env: { ...process.env, DRIFTGATE_WORKSPACE: "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ""
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString()
        const m = /dashboard at (http:\/\/\S+)/.exec(out)
        if (m) resolve(m[1]!)
      })
      child.on("exit", (code) => reject(new Error(`driftgate ui exited ${code} before listening`)))
    })
    const runs = await fetch(`${url}/runs`)
    expect(runs.status).toBe(200)
    expect(await runs.text()).toContain("iris-logreg")
    const model = await (await fetch(`${url}/models/iris`)).text()
    expect(model).toContain("not served by this process")
    expect((await fetch(`${url}/runs`, { method: "POST" })).status).toBe(404)
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", resolve)
      child.kill("SIGTERM")
    })
    expect(code).toBe(0)
  }, 120_000)
})
