import { Effect, Layer } from "effect"
import type { Worker } from "node:worker_threads"
import { startModuleWorker } from "../../ml/parallel.js"
import type { DriftColumnOverride, DriftConfig } from "../../domain/config.js"
import { DriftInputError } from "../../domain/errors.js"
import type { Frame } from "../../domain/table.js"
import { datasetDrift } from "../../stats/datasetDrift.js"
import { buildProfile, type ColumnValues, type ReferenceProfile } from "../../stats/profile.js"
import { DriftDetector } from "../../services/DriftDetector.js"

const columnsOf = (frame: Frame): Map<string, ColumnValues> =>
  new Map(frame.columns.map((c) => [c.name, c.values as ColumnValues]))

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Drift options from the config's drift: block (thresholds, per-column overrides). */
export const driftOptions = (config: DriftConfig) => ({
  driftShare: config.drift_share,
  minBatchSize: config.min_batch_size,
  shareSeverity: config.severity_share,
  severity: { pValue: config.severity_p_value, distance: config.severity_distance },
  columns: Object.fromEntries(
    Object.entries(config.columns as Readonly<Record<string, typeof DriftColumnOverride.Type>>).map(([k, v]) => [
      k,
      { test: v.test, ...(v.threshold !== undefined ? { threshold: v.threshold } : {}) }
    ])
  )
})

/** Frames of at least this many rows are profiled on a thread of their own by startProfile. */
const PROFILE_THREAD_ROWS = 100_000

const startProfileWorker = (workerData: unknown): Worker =>
  startModuleWorker(import.meta.url, "./profileWorker.ts", "profile-worker", { workerData })

let builtOnThread = 0
/** Profiles built on a worker thread in this process (tests check the thread is really used). */
export const profilesBuiltOnThread = (): number => builtOnThread

const profileHere = (frame: Frame, seed: number) =>
  Effect.try({
    try: () => buildProfile(columnsOf(frame), { seed }),
    catch: (e) => new DriftInputError({ message: message(e) })
  })

/**
 * The profile of a large frame begun on a worker thread (its columns copied to it); the effect waits for
 * it. A worker that cannot start or ends without an answer leaves the work to the calling thread; an
 * error of the profile itself is the same DriftInputError as on the calling thread.
 */
const profileOnThread = (frame: Frame, seed: number): Effect.Effect<ReferenceProfile, DriftInputError> => {
  let worker: Worker
  try {
    // number columns on shared memory (one copy, no serialisation: cloning 50 MB took 0.2 s); text columns cloned
    const columns = [...columnsOf(frame)].map(([name, values]): [string, ColumnValues] => {
      if (!(values instanceof Float64Array) || values.buffer instanceof SharedArrayBuffer) return [name, values]
      const shared = new Float64Array(new SharedArrayBuffer(values.byteLength))
      shared.set(values)
      return [name, shared]
    })
    worker = startProfileWorker({ columns, seed })
  } catch {
    return profileHere(frame, seed)
  }
  const answer = new Promise<{ profile?: ReferenceProfile; error?: string } | undefined>((resolve) => {
    worker.once("message", resolve)
    worker.once("error", () => resolve(undefined))
    worker.once("exit", () => resolve(undefined))
  })
  return Effect.flatMap(
    Effect.promise(() => answer),
    (a) => {
      void worker.terminate()
      if (a?.profile !== undefined) {
        builtOnThread++
        return Effect.succeed(a.profile)
      }
      if (a?.error !== undefined) return Effect.fail(new DriftInputError({ message: a.error }))
      return profileHere(frame, seed)
    }
  )
}

/** Tabular drift over src/stats: exact KS / chi-square / Z on small references, distances on large. */
export const DriftDetectorTabular = Layer.succeed(
  DriftDetector,
  DriftDetector.of({
    name: "tabular",
    profile: profileHere,
    startProfile: (frame, seed) =>
      Effect.sync(() => (frame.rows >= PROFILE_THREAD_ROWS ? profileOnThread(frame, seed) : profileHere(frame, seed))),
    detect: (profile, current, config) =>
      Effect.try({
        try: () => {
          const overrides = Object.keys(config.columns).filter((c) => !profile.columns.some((p) => p.name === c))
          if (overrides.length > 0)
            throw new Error(
              `drift.columns names ${overrides.join(", ")}, which the model's reference profile does not have`
            )
          return datasetDrift(profile, columnsOf(current), driftOptions(config))
        },
        catch: (e) => new DriftInputError({ message: message(e) })
      })
  })
)
