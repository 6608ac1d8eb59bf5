import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCrashTrials } from "./registry-crash-support.js"

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe("RegistrySqlite after a writer is killed (SIGKILL)", () => {
  // bench/registry_crash.ts runs the same trials 50+ times; here a handful keeps the suite fast.
  it("the store opens, one Production at most, the chain verifies, an interrupted rollback is pending", async () => {
    const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-crash-"))
    dirs.push(dir)
    // Trials 1 and 3 are killed at a random moment; 2 and 4 right after a rollback has begun.
    const summary = await runCrashTrials({ path: join(dir, "store.db"), trials: 4, seed: 11, stallEvery: 2 })
    expect(summary.details.flatMap((t) => t.problems)).toEqual([])
    expect(summary).toMatchObject({
      trials: 4,
      invariantViolations: 0,
      chainFailures: 0,
      openFailures: 0,
      interruptedRollbacksMissed: 0
    })
    expect(summary.interruptedRollbacksDetected).toBeGreaterThanOrEqual(2)
    expect(summary.recoveredRollbacks).toBe(summary.interruptedRollbacksDetected)
    // The child was killed while working, not before its first promotion.
    expect(summary.finalVersions).toBeGreaterThanOrEqual(4)
  })
})
