/**
 * Crash drill for the SQLite registry: a child process loops over promotions and two-step
 * rollbacks on one store.db and is SIGKILLed at random moments; after every kill the store must
 * open, hold at most one Production version, verify its audit chain, and show a rollback cut
 * between its two steps as pending (which is then completed, as the next CLI run would).
 *
 *   npx tsx bench/registry_crash.ts [trials=50] [seed] [max kill delay ms=250]
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCrashTrials } from "../tests/layers/registry-crash-support.js"

const trials = Number(process.argv[2] ?? "50")
const seed = Number(process.argv[3] ?? String(Date.now() % 1_000_000))
const maxKillDelayMs = Number(process.argv[4] ?? "250")
const dir = mkdtempSync(join(tmpdir(), "driftgate-registry-crash-bench-"))
const started = Date.now()
try {
  const summary = await runCrashTrials({
    path: join(dir, "store.db"),
    trials,
    seed,
    maxKillDelayMs,
    onTrial: (t) => {
      const mark = t.problems.length === 0 ? "ok" : "FAIL"
      const pending =
        t.pending.length > 0 ? `, interrupted rollback ${t.pending.join(", ")} detected and completed` : ""
      console.log(
        `trial ${String(t.trial).padStart(3)}: killed after ${String(t.killAfterMs).padStart(3)} ms, ${t.versions} versions, ${mark}${pending}`
      )
      for (const p of t.problems) console.log(`           ${p}`)
    }
  })
  console.log("")
  console.log(`seed                             ${seed}`)
  console.log(`trials                           ${summary.trials}`)
  console.log(`invariant violations             ${summary.invariantViolations}`)
  console.log(`chain failures                   ${summary.chainFailures}`)
  console.log(`store open failures              ${summary.openFailures}`)
  console.log(
    `interrupted rollbacks detected   ${summary.interruptedRollbacksDetected} (all completed on recovery: ${summary.recoveredRollbacks})`
  )
  console.log(`interrupted rollbacks missed     ${summary.interruptedRollbacksMissed}`)
  console.log(`versions in the store at the end ${summary.finalVersions}`)
  console.log(`wall time                        ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const bad =
    summary.invariantViolations + summary.chainFailures + summary.openFailures + summary.interruptedRollbacksMissed
  process.exitCode = bad === 0 ? 0 : 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
