import { execFile } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { reportTargets } from "../../bench/targets.js"

const root = path.resolve(__dirname, "../..")

describe("benches fail when they miss (issue #12 item 12)", () => {
  it("a missed or unmeasured target is a FAIL line and counts as failed", () => {
    const lines: string[] = []
    const failed = reportTargets(
      [
        { name: "met", ok: true, detail: "1 ≤ 2" },
        { name: "missed", ok: false, detail: "3 > 2" },
        { name: "unmeasured", ok: undefined, detail: "peer not installed" }
      ],
      (l) => lines.push(l)
    )
    expect(failed).toBe(2)
    expect(lines).toEqual([
      "PASS  met: 1 ≤ 2",
      "FAIL  missed: 3 > 2",
      "FAIL  unmeasured: could not be measured (peer not installed)"
    ])
  })

  // Asynchronous: a spawnSync of several seconds would block the vitest worker's RPC.
  const startup = (maxOverheadMs: number) =>
    new Promise<{ status: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "bench/startup.ts", "--repeats", "1", "--max-overhead-ms", String(maxOverheadMs)],
        { cwd: root, encoding: "utf8" },
        (error, stdout) =>
          resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout })
      )
    })

  it("bench/startup.ts exits 1 on a target no CLI can meet and 0 on one every CLI meets", async () => {
    const missed = await startup(-100_000)
    expect(missed.stdout).toContain("FAIL  driftgate --help")
    expect(missed.status).toBe(1)
    const met = await startup(100_000)
    expect(met.stdout).toContain("PASS  driftgate registry list")
    expect(met.status).toBe(0)
  }, 180_000)
})
