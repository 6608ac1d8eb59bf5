// A reference profile built on a thread of its own (DriftDetectorTabular.startProfile starts it; the bundled
// CLI has it as dist/profile-worker.js): preprocessing is single-threaded, so the profile of a large train
// split (a sort per numeric column) runs on the idle core while the splits are transformed and written.
// One message in (workerData), one out: { profile } or { error }.
import { parentPort, workerData } from "node:worker_threads"
import { buildProfile, type ColumnValues } from "../../stats/profile.js"

const job = workerData as { readonly columns: ReadonlyArray<readonly [string, ColumnValues]>; readonly seed: number }
try {
  parentPort!.postMessage({ profile: buildProfile(new Map(job.columns), { seed: job.seed }) })
} catch (e) {
  parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) })
}
