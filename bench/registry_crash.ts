/**
 * Crash drill for the SQLite registry: a child process loops over promotions and two-step
 * rollbacks on one store.db and is SIGKILLed at random moments; after every kill the store must
 * open, hold at most one Production version, verify its audit chain, and show a rollback cut
 * between its two steps as pending (which is then completed, as the next CLI run would).
 *
 * Then kill -9 of `driftgate run` itself (the built CLI: `node scripts/build.mjs --no-types` first)
 * at random points of the pipeline: the next command that opens the store must show the run
 * `interrupted`, never `running`, and a version it had registered keeps its audit record.
 *
 *   npx tsx bench/registry_crash.ts [trials=50] [seed] [max kill delay ms=250] [run kills=20]
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCrashTrials } from "../tests/layers/registry-crash-support.js"
import { runKillTrials } from "../tests/layers/registry-crash-runs-support.js"

const trials = Number(process.argv[2] ?? "50")
const seed = Number(process.argv[3] ?? String(Date.now() % 1_000_000))
const maxKillDelayMs = Number(process.argv[4] ?? "250")
const runKills = Number(process.argv[5] ?? "20")
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

  console.log("")
  console.log(`kill -9 of \`driftgate run\` (${runKills} trials)`)
  const runsStarted = Date.now()
  const runs = await runKillTrials({
    workspace: mkdtempSync(join(dir, "ws-")),
    trials: runKills,
    seed,
    onTrial: (t) => {
      const what = !t.killed
        ? `finished first (${t.status})`
        : t.runId === null
          ? "killed before its run was created"
          : t.status === "interrupted"
            ? `killed, run interrupted${t.promotedBeforeKill ? " (it had registered a version)" : ""}`
            : `killed after the run ended (${t.status})`
      console.log(
        `trial ${String(t.trial).padStart(3)}: ${String(t.killAfterMs).padStart(4)} ms into the run, ${what}, ${t.problems.length === 0 ? "ok" : "FAIL"}`
      )
      for (const p of t.problems) console.log(`           ${p}`)
    }
  })
  console.log("")
  console.log(`pipeline duration (baseline)     ${runs.pipelineMs} ms (whole command ${runs.baselineMs} ms)`)
  console.log(`killed (its run created)         ${runs.killedWithRun}`)
  console.log(`  marked interrupted             ${runs.interrupted}`)
  console.log(`  left 'running'                 ${runs.leftRunning}`)
  console.log(`  killed after the run ended      ${runs.killedAfterEnd} (it keeps its status)`)
  console.log(`  had registered a version       ${runs.promotedThenInterrupted} (audit record kept, named in the run)`)
  console.log(`finished before the kill         ${runs.finishedBeforeKill}`)
  console.log(`problems                         ${runs.problems}`)
  console.log(`wall time                        ${((Date.now() - runsStarted) / 1000).toFixed(1)} s`)
  process.exitCode = bad === 0 && runs.problems === 0 ? 0 : 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
