import { Effect, Option } from "effect"
import { type ArtifactFile, artifactFileOf, artifactFindings, type RegistrationFile } from "../domain/artifacts.js"
import { ArtifactMismatch, RegistryError } from "../domain/errors.js"
import type { ModelVersion } from "../domain/registry.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { artifactKeys } from "./workspace.js"

/** Written after registration, beside the files it lists: never one of the hashed files itself. */
export const REGISTRATION_FILE = "registration.json"

/** The files every trained model folder holds; registering a version without one of them is refused. */
const REQUIRED = ["model.json", "transform.json", "feature_map.json", "metadata.json"] as const

/** Every file of a run's model folder (except registration.json) with its SHA-256 and size. */
export const digestModelFolder = Effect.fn("artifacts.digest")(function* (runId: string) {
  const storage = yield* Storage
  const dir = artifactKeys(runId).dir
  const keys = yield* storage.list(dir)
  const files: ArtifactFile[] = []
  for (const key of keys) {
    const file = key.slice(dir.length + 1)
    if (file.includes("/") || file === REGISTRATION_FILE) continue
    files.push(artifactFileOf(file, yield* storage.read(key)))
  }
  return files
})

/**
 * The files a version will be registered with: all of its model folder, after checking that the
 * folder is complete and that model.json is still the file training wrote (its digest was recorded
 * in the run), so a file edited between training and `promote --run` is never vouched for.
 */
export const filesToRegister = Effect.fn("artifacts.toRegister")(function* (model: string, runId: string) {
  const storage = yield* Storage
  const tracker = yield* Tracker
  const files = yield* digestModelFolder(runId)
  const dir = artifactKeys(runId).dir
  const missing = REQUIRED.filter((f) => !files.some((x) => x.file === f))
  if (missing.length > 0) {
    return yield* Effect.fail(
      new RegistryError({
        model,
        message: `run ${runId} cannot be registered: ${missing.map((f) => storage.locate(`${dir}/${f}`)).join(", ")} ${missing.length === 1 ? "is" : "are"} missing`
      })
    )
  }
  const trained = yield* Effect.either(tracker.getRun(runId))
  const recorded = trained._tag === "Right" ? trained.right.artifacts.find((a) => a.name === "model.json") : undefined
  const now = files.find((f) => f.file === "model.json")!
  if (recorded?.sha256 != null && recorded.sha256 !== now.sha256) {
    return yield* Effect.fail(
      new RegistryError({
        model,
        message: `run ${runId} cannot be registered: ${storage.locate(`${dir}/model.json`)} was modified after training (SHA-256 recorded ${recorded.sha256.slice(0, 12)}…, found ${now.sha256.slice(0, 12)}…)`
      })
    )
  }
  return files
})

export type VersionCheck =
  | { readonly status: "verified"; readonly files: number }
  | { readonly status: "unverifiable" }
  | { readonly status: "failed"; readonly problems: ReadonlyArray<ArtifactMismatch> }

/** Every recorded file of a version against the bytes on disk now; collects all mismatches. */
export const checkVersionFiles = Effect.fn("artifacts.check")(function* (version: ModelVersion) {
  const registry = yield* Registry
  const storage = yield* Storage
  const recorded = yield* registry.artifactFiles(version.name, version.version)
  if (Option.isNone(recorded)) return { status: "unverifiable" } satisfies VersionCheck as VersionCheck
  const dir = artifactKeys(version.runId).dir
  const found = new Map<string, string>()
  for (const f of recorded.value) {
    const key = `${dir}/${f.file}`
    if (yield* storage.exists(key)) found.set(f.file, artifactFileOf(f.file, yield* storage.read(key)).sha256)
  }
  const problems = artifactFindings(recorded.value, found).map(
    (p) =>
      new ArtifactMismatch({
        model: version.name,
        version: version.version,
        file: `${dir}/${p.file}`,
        problem: p.problem,
        recorded: p.recorded,
        found: p.found
      })
  )
  return (problems.length === 0
    ? { status: "verified", files: recorded.value.length }
    : { status: "failed", problems }) satisfies VersionCheck as VersionCheck
})

/**
 * Refuses a version whose files do not match what was recorded at registration (the first
 * mismatch, one sentence naming the file and the version). A version registered before digests
 * were recorded passes here; `registry verify` reports it as unverifiable.
 */
export const requireVerifiedFiles = Effect.fn("artifacts.require")(function* (version: ModelVersion) {
  const check = yield* checkVersionFiles(version)
  if (check.status === "failed") return yield* Effect.fail(check.problems[0]!)
  return check
})

/**
 * Before a version is moved to a stage (rollback): its recorded files must verify; a version
 * registered before digests were recorded must at least still have every file a model needs.
 */
export const requireDeployable = Effect.fn("artifacts.deployable")(function* (version: ModelVersion) {
  const storage = yield* Storage
  const check = yield* requireVerifiedFiles(version)
  if (check.status === "verified") return check
  const dir = artifactKeys(version.runId).dir
  for (const f of REQUIRED) {
    const key = `${dir}/${f}`
    if (!(yield* storage.exists(key))) {
      return yield* Effect.fail(
        new RegistryError({
          model: version.name,
          message: `version ${version.version} cannot be deployed: ${storage.locate(key)} is missing`
        })
      )
    }
  }
  return check
})

/** registration.json: the version, its files and the audit record that registered it (an anchor outside the store). */
export const writeRegistration = Effect.fn("artifacts.registration")(function* (
  version: ModelVersion,
  files: ReadonlyArray<ArtifactFile>
) {
  const registry = yield* Registry
  const storage = yield* Storage
  const record = (yield* registry.audit(version.name)).find(
    (r) => r.action === "promote" && r.version === version.version
  )
  if (record === undefined) return
  const doc: RegistrationFile = {
    format: "driftgate.registration/1",
    model: version.name,
    version: version.version,
    run_id: version.runId,
    registered_at: version.createdAt,
    audit: { seq: record.seq, hash: record.hash },
    files
  }
  yield* storage.write(`${artifactKeys(version.runId).dir}/${REGISTRATION_FILE}`, JSON.stringify(doc, null, 2) + "\n")
})
