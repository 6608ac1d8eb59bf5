import { Effect, Either, Option } from "effect"
import { anchorProblems, RegistrationFile } from "../domain/artifacts.js"
import { describeError } from "../domain/describe.js"
import { canonicalJson } from "../domain/hash.js"
import { type AuditRecord, replayProblems, type RollbackIntent } from "../domain/registry.js"
import { Registry } from "../services/Registry.js"
import { Storage } from "../services/Storage.js"
import { Tracker } from "../services/Tracker.js"
import { checkVersionFiles, REGISTRATION_FILE } from "./artifactIntegrity.js"
import { artifactKeys } from "./workspace.js"
import { readWorkspaceJson } from "./workspaceJson.js"

export interface VersionVerdict {
  readonly model: string
  readonly version: number
  readonly stage: string
  /** verified: every recorded file matches; unverifiable: registered before digests were recorded; failed: see problems. */
  readonly files: "verified" | "unverifiable" | "failed"
}

export interface StoreVerdict {
  readonly ok: boolean
  readonly audit_records: number
  /** Every inconsistency found, one sentence each (the command exits 1 when there is any). */
  readonly problems: ReadonlyArray<string>
  /** What could not be checked, and why (old versions without digests, a store without an anchor). */
  readonly notes: ReadonlyArray<string>
  readonly checked: ReadonlyArray<string>
  readonly versions: ReadonlyArray<VersionVerdict>
  readonly pending_rollbacks: ReadonlyArray<RollbackIntent>
}

const message = (e: { readonly _tag: string; readonly message?: string }): string =>
  "message" in e && typeof e.message === "string" ? e.message : e._tag

/**
 * `driftgate registry verify`: the command to trust after a crash, a full disk or a colleague's
 * mistake. Checks the SQLite file itself (integrity_check, foreign_key_check), the audit chain and
 * its anchors outside the database (audit-head, each version's registration.json), that the log
 * explains every stage and alias, at most one Production per model, every registered file against
 * its recorded SHA-256, and that the store is not empty beside a workspace that has been used.
 * Every check runs even when an earlier one fails; everything found is reported at once.
 */
/** Appends without spreading: a damaged store can report one problem per audit record. */
const append = (into: string[], items: ReadonlyArray<string>): void => {
  for (const item of items) into.push(item)
}

export const verifyStore = Effect.fn("program.verifyStore")(function* () {
  const registry = yield* Registry
  const storage = yield* Storage
  const tracker = yield* Tracker
  const problems: string[] = []
  const notes: string[] = []
  const checked: string[] = []
  const versions: VersionVerdict[] = []
  /** Runs one check; a failure to even read is itself a problem, and the next checks still run. */
  const step = <A, E extends { readonly _tag: string }, R>(what: string, effect: Effect.Effect<A, E, R>) =>
    Effect.map(Effect.either(effect), (r) => {
      if (Either.isLeft(r)) {
        problems.push(`${what} could not be read: ${message(r.left)}`)
        return undefined
      }
      return r.right
    })

  const inspection = yield* step("the store", registry.inspectStore())
  if (inspection !== undefined) {
    append(checked, inspection.checked)
    append(problems, inspection.problems)
    append(notes, inspection.notes)
  }

  checked.push("audit hash chain")
  const chain = yield* step("the audit chain", registry.verify())
  if (chain !== undefined) append(problems, chain.problems)
  const audit: ReadonlyArray<AuditRecord> = (yield* step("the audit log", registry.audit())) ?? []
  const models = (yield* step("the registered models", registry.listModels())) ?? []
  const pending = (yield* step("the pending rollbacks", registry.pendingRollbacks())) ?? []

  checked.push("stages and aliases replayed from the audit log", "one Production version per model")
  checked.push("every registered file against its recorded SHA-256")
  for (const m of models) {
    const list = yield* step(`the versions of ${m.name}`, registry.listVersions(m.name))
    if (list === undefined) continue
    const prod = list.filter((v) => v.stage === "Production")
    if (prod.length > 1)
      problems.push(`model ${m.name} has ${prod.length} Production versions (${prod.map((v) => v.version).join(", ")})`)
    append(problems, replayProblems(audit, m.name, list))
    for (const v of list) {
      const check = yield* step(`the files of ${m.name} version ${v.version}`, checkVersionFiles(v))
      if (check === undefined) {
        versions.push({ model: m.name, version: v.version, stage: v.stage, files: "failed" })
        continue
      }
      versions.push({ model: m.name, version: v.version, stage: v.stage, files: check.status })
      if (check.status === "failed")
        append(
          problems,
          check.problems.map((p) => describeError(p))
        )
      if (check.status === "unverifiable") {
        notes.push(`${m.name} version ${v.version}: unverifiable (registered before hashes were recorded)`)
        continue
      }
      // The digests are also in the hash-chained promote record: the table alone cannot be rewritten.
      const recorded = yield* step(
        `the recorded files of ${m.name} version ${v.version}`,
        registry.artifactFiles(m.name, v.version)
      )
      const promoted = audit.find((r) => r.model === m.name && r.version === v.version && r.action === "promote")
      const logged = promoted?.details["files"]
      if (recorded !== undefined && Option.isSome(recorded) && logged !== undefined) {
        const table = Object.fromEntries(recorded.value.map((f) => [f.file, f.sha256]))
        if (canonicalJson(table) !== canonicalJson(logged))
          problems.push(
            `${m.name} version ${v.version}: the recorded file digests differ from those in its audit record ${promoted!.seq} (the artifact_files table was edited)`
          )
      }
      const regKey = `${artifactKeys(v.runId).dir}/${REGISTRATION_FILE}`
      if (!(yield* step(regKey, storage.exists(regKey)))) {
        notes.push(
          `${m.name} version ${v.version}: no ${REGISTRATION_FILE} (written just after registration; a crash in between leaves none)`
        )
        continue
      }
      const reg = yield* Effect.either(readWorkspaceJson(regKey, RegistrationFile, "registration record"))
      if (Either.isLeft(reg)) {
        problems.push(describeError(reg.left))
        continue
      }
      if (reg.right.model !== m.name || reg.right.version !== v.version || reg.right.run_id !== v.runId)
        problems.push(
          `${storage.locate(regKey)} names ${reg.right.model} version ${reg.right.version} (run ${reg.right.run_id}), not ${m.name} version ${v.version} (run ${v.runId})`
        )
      append(problems, anchorProblems(reg.right.audit, storage.locate(regKey), audit))
    }
  }

  // An empty store beside a used workspace was wiped or replaced: never "0 records, verified".
  checked.push("the store is not empty beside existing artifacts or reports")
  if (models.length === 0 && audit.length === 0) {
    const runs = (yield* step("the tracked runs", tracker.listRuns({ limit: 1 }))) ?? []
    const artifacts = (yield* step("artifacts/", storage.list("artifacts"))) ?? []
    const reports = (yield* step("reports/", storage.list("reports"))) ?? []
    const folders = (keys: ReadonlyArray<string>) => new Set(keys.map((k) => k.split("/")[1])).size
    if (runs.length === 0 && (artifacts.length > 0 || reports.length > 0))
      problems.push(
        `the store holds no runs and no registry records, but the workspace ${storage.root} holds ${folders(artifacts)} artifact folder(s) and ${folders(reports)} report folder(s): store.db was wiped or replaced`
      )
  }

  return {
    ok: problems.length === 0,
    audit_records: audit.length,
    problems,
    notes,
    checked,
    versions,
    pending_rollbacks: pending
  } satisfies StoreVerdict
})
