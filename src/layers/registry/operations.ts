import { Schema } from "effect"
import { RegistryError, StaleComparison } from "../../domain/errors.js"
import { canonicalJson } from "../../domain/hash.js"
import { lineageProblems } from "../../domain/lineage.js"
import {
  type AuditEntry,
  auditHash,
  type AuditRecord,
  GENESIS_HASH,
  type ModelVersion,
  type RollbackIntent,
  Stage
} from "../../domain/registry.js"
import type { PromoteInput } from "../../services/Registry.js"
import type { RegistryTx } from "./RegistryTx.js"

/**
 * The registry's rules, written once over a RegistryTx so the SQLite and in-memory layers agree.
 * Each function runs inside one transaction: it throws RegistryError to refuse (the caller rolls
 * back, so a refusal writes nothing) and appends every audit record of the change itself.
 */

/** Same shape as a deployment's registered_model: the name ends up in paths (drift/<model>/). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/
const isStage = Schema.is(Stage)

const refuse = (model: string, message: string): never => {
  throw new RegistryError({ model, message })
}

export const CHAMPION = "champion"

const SHA256 = /^[0-9a-f]{64}$/
/** A file name inside the model folder: no path separators, no dot segments. */
const FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

const productionOf = (tx: RegistryTx, name: string): number | null =>
  tx.versions(name).find((v) => v.stage === "Production")?.version ?? null

/** Appends one record, chained to the newest record read inside the same transaction. */
export const appendAudit = (tx: RegistryTx, at: string, e: AuditEntry): AuditRecord => {
  const last = tx.lastAudit()
  const unsigned: Omit<AuditRecord, "hash"> = {
    seq: (last?.seq ?? 0) + 1,
    at,
    actor: e.actor,
    action: e.action,
    model: e.model,
    version: e.version,
    fromStage: e.fromStage,
    toStage: e.toStage,
    reason: e.reason,
    // Hash what a reader will get back from storage (undefined keys dropped, key order canonical).
    details: JSON.parse(canonicalJson(e.details)) as Record<string, unknown>,
    prevHash: last?.hash ?? GENESIS_HASH
  }
  const record: AuditRecord = { ...unsigned, hash: auditHash(unsigned) }
  tx.appendAudit(record)
  return record
}

const requireModel = (tx: RegistryTx, name: string): ReadonlyArray<ModelVersion> => {
  if (tx.getModel(name) === undefined) refuse(name, `model ${name} is not registered`)
  return tx.versions(name)
}

const requireVersion = (tx: RegistryTx, name: string, version: number): ModelVersion => {
  const versions = requireModel(tx, name)
  const found = versions.find((v) => v.version === version)
  if (found === undefined) {
    const list = versions.length === 0 ? "none" : versions.map((v) => v.version).join(", ")
    return refuse(name, `model ${name} has no version ${version} (versions: ${list})`)
  }
  return found
}

const reread = (tx: RegistryTx, name: string, version: number): ModelVersion => {
  const v = tx.versions(name).find((x) => x.version === version)
  if (v === undefined) throw new Error(`version ${version} of ${name} vanished inside its own transaction`)
  return v
}

/** Points `alias` at `version`, with its audit record; nothing is written when it already does. */
const moveAlias = (
  tx: RegistryTx,
  at: string,
  name: string,
  alias: string,
  version: number,
  actor: string,
  reason: string | null
) => {
  const previous = tx.aliasTarget(name, alias)
  if (previous === version) return
  tx.setAlias(name, alias, version)
  appendAudit(tx, at, {
    actor,
    action: "set_alias",
    model: name,
    version,
    fromStage: null,
    toStage: null,
    reason,
    details: { alias, previous_version: previous ?? null }
  })
}

/** Archives whoever holds `stage` (except `keep`), with one audit record each. */
const archiveHolders = (
  tx: RegistryTx,
  at: string,
  name: string,
  stage: Stage,
  keep: number,
  actor: string,
  reason: string,
  details: Record<string, unknown>
) => {
  for (const v of tx.versions(name)) {
    if (v.stage !== stage || v.version === keep) continue
    tx.setStage(name, v.version, "Archived", at)
    appendAudit(tx, at, {
      actor,
      action: "transition",
      model: name,
      version: v.version,
      fromStage: stage,
      toStage: "Archived",
      reason,
      details
    })
  }
}

export const promoteTx = (tx: RegistryTx, input: PromoteInput, at: string): ModelVersion => {
  const { name } = input
  if (!NAME.test(name))
    refuse(
      name,
      `"${name}" is not a valid model name (letters, digits, "_", "." and "-", starting with a letter or digit)`
    )
  const problems = lineageProblems(input.tags)
  if (problems.length > 0) {
    refuse(name, `cannot register a version of ${name} from run ${input.runId}: lineage ${problems.join("; ")}`)
  }
  if (input.tags["run_id"] !== input.runId) {
    refuse(
      name,
      `cannot register a version of ${name}: its run_id tag (${input.tags["run_id"]}) is not the run being registered (${input.runId})`
    )
  }
  const stage = input.stage ?? "Production"
  if (stage !== "Production" && stage !== "Staging")
    refuse(name, `a new version can be registered into Production or Staging, not ${String(stage)}`)
  // A Staging candidate must not take the champion alias from the version being served.
  const aliases = [...new Set(input.aliases ?? (stage === "Production" ? [CHAMPION] : []))]
  for (const a of aliases) if (!NAME.test(a)) refuse(name, `"${a}" is not a valid alias`)
  const files = input.files === undefined ? undefined : [...input.files].sort((a, b) => (a.file < b.file ? -1 : 1))
  for (const f of files ?? []) {
    if (!FILE.test(f.file) || !SHA256.test(f.sha256) || !Number.isInteger(f.bytes) || f.bytes < 0)
      refuse(name, `artifact file ${JSON.stringify(f.file)} has no valid name, SHA-256 and size`)
  }
  if (files !== undefined && new Set(files.map((f) => f.file)).size !== files.length)
    refuse(name, "an artifact file is listed twice")
  // Compare-and-set, read inside the write lock: the comparison is only valid against this Production.
  if (input.comparedWith !== undefined) {
    const current = productionOf(tx, name)
    if (current !== input.comparedWith) {
      throw new StaleComparison({
        model: name,
        action: "promotion",
        comparedWith: input.comparedWith,
        current,
        subject: input.runId
      })
    }
  }

  if (tx.getModel(name) === undefined) {
    tx.insertModel({ name, createdAt: at, description: null })
    appendAudit(tx, at, {
      actor: input.actor,
      action: "create_model",
      model: name,
      version: null,
      fromStage: null,
      toStage: null,
      reason: null,
      details: {}
    })
  }
  const version = tx.versions(name).reduce((max, v) => Math.max(max, v.version), 0) + 1
  archiveHolders(tx, at, name, stage, version, input.actor, `superseded by version ${version}`, {
    superseded_by: version
  })
  tx.insertVersion({
    name,
    version,
    runId: input.runId,
    stage,
    artifactPath: input.artifactPath,
    tags: { ...input.tags },
    createdAt: at,
    updatedAt: at
  })
  if (files !== undefined) tx.insertFiles(name, version, files)
  appendAudit(tx, at, {
    actor: input.actor,
    action: "promote",
    model: name,
    version,
    fromStage: "None",
    toStage: stage,
    reason: input.reason,
    details: {
      ...input.details,
      run_id: input.runId,
      artifact_path: input.artifactPath,
      // The digests enter the hash chain too: rewriting them in the table alone is detected.
      ...(files !== undefined ? { files: Object.fromEntries(files.map((f) => [f.file, f.sha256])) } : {}),
      ...(input.comparedWith !== undefined ? { compared_with: input.comparedWith } : {})
    }
  })
  for (const alias of aliases) moveAlias(tx, at, name, alias, version, input.actor, input.reason)
  return reread(tx, name, version)
}

export interface TransitionInput {
  readonly name: string
  readonly version: number
  readonly to: Stage
  readonly actor: string
  readonly reason: string
}

export const transitionTx = (tx: RegistryTx, input: TransitionInput, at: string): ModelVersion => {
  const { name, to } = input
  if (!isStage(to)) refuse(name, `${String(to)} is not a stage (None, Staging, Production, Archived)`)
  const current = requireVersion(tx, name, input.version)
  if (current.stage === to) refuse(name, `version ${input.version} is already in ${to}`)
  if (to === "Production") {
    archiveHolders(tx, at, name, "Production", input.version, input.actor, `superseded by version ${input.version}`, {
      superseded_by: input.version
    })
  }
  tx.setStage(name, input.version, to, at)
  appendAudit(tx, at, {
    actor: input.actor,
    action: "transition",
    model: name,
    version: input.version,
    fromStage: current.stage,
    toStage: to,
    reason: input.reason,
    details: {}
  })
  return reread(tx, name, input.version)
}

export interface SetAliasInput {
  readonly name: string
  readonly alias: string
  readonly version: number
  readonly actor: string
}

export const setAliasTx = (tx: RegistryTx, input: SetAliasInput, at: string): void => {
  if (!NAME.test(input.alias)) refuse(input.name, `"${input.alias}" is not a valid alias`)
  requireVersion(tx, input.name, input.version)
  moveAlias(tx, at, input.name, input.alias, input.version, input.actor, null)
}

export interface BeginRollbackInput {
  readonly name: string
  readonly toVersion: number
  readonly reason: string
  readonly actor: string
  readonly replacing?: number | null
}

export const beginRollbackTx = (tx: RegistryTx, input: BeginRollbackInput, at: string, id: string): RollbackIntent => {
  const { name } = input
  const target = requireVersion(tx, name, input.toVersion)
  if (target.stage === "Production") refuse(name, `version ${input.toVersion} is already in Production`)
  const pending = tx.pendingIntent(name)
  if (pending !== undefined) {
    refuse(
      name,
      `a rollback of ${name} to version ${pending.toVersion} is already pending (intent ${pending.id}, begun ${pending.createdAt} by ${pending.actor}); complete or abandon it first`
    )
  }
  const production = tx.versions(name).find((v) => v.stage === "Production")
  if (input.replacing !== undefined && (production?.version ?? null) !== input.replacing) {
    throw new StaleComparison({
      model: name,
      action: "rollback",
      comparedWith: input.replacing,
      current: production?.version ?? null,
      subject: `to version ${input.toVersion}`
    })
  }
  const intent: RollbackIntent = {
    id,
    model: name,
    fromVersion: production?.version ?? null,
    toVersion: input.toVersion,
    reason: input.reason,
    actor: input.actor,
    createdAt: at,
    status: "pending"
  }
  tx.insertIntent(intent)
  appendAudit(tx, at, {
    actor: input.actor,
    action: "rollback_intent",
    model: name,
    version: input.toVersion,
    fromStage: null,
    toStage: null,
    reason: input.reason,
    details: { intent_id: id, from_version: intent.fromVersion, to_version: input.toVersion }
  })
  return intent
}

const requirePendingIntent = (tx: RegistryTx, id: string): RollbackIntent => {
  const intent = tx.getIntent(id)
  if (intent === undefined) return refuse("(unknown)", `there is no rollback intent ${id}`)
  if (intent.status !== "pending") refuse(intent.model, `rollback intent ${id} is already ${intent.status}`)
  return intent
}

export const completeRollbackTx = (
  tx: RegistryTx,
  intentId: string,
  at: string,
  completedBy?: string
): ModelVersion => {
  const intent = requirePendingIntent(tx, intentId)
  const { model: name, toVersion, reason } = intent
  // Whoever finishes it (e.g. --resume after a crash) is the actor; the intent keeps who started it.
  const actor = completedBy ?? intent.actor
  const target = requireVersion(tx, name, toVersion)
  // Compare-and-set: the intent replaces the version it recorded; if Production moved since, the
  // operator's decision was about another state, so nothing moves.
  const production = tx.versions(name).find((v) => v.stage === "Production")
  if ((production?.version ?? null) !== intent.fromVersion) {
    throw new StaleComparison({
      model: name,
      action: "rollback",
      comparedWith: intent.fromVersion,
      current: production?.version ?? null,
      subject: intentId
    })
  }
  const details = { intent_id: intentId, ...(actor !== intent.actor ? { started_by: intent.actor } : {}) }
  archiveHolders(tx, at, name, "Production", toVersion, actor, `rolled back to version ${toVersion}`, details)
  if (target.stage !== "Production") tx.setStage(name, toVersion, "Production", at)
  appendAudit(tx, at, {
    actor,
    action: "rollback",
    model: name,
    version: toVersion,
    fromStage: target.stage,
    toStage: "Production",
    reason,
    details: { ...details, from_version: production?.version ?? null }
  })
  moveAlias(tx, at, name, CHAMPION, toVersion, actor, reason)
  tx.setIntentStatus(intentId, "completed")
  return reread(tx, name, toVersion)
}

export const abandonRollbackTx = (
  tx: RegistryTx,
  intentId: string,
  reason: string,
  actor: string,
  at: string
): void => {
  const intent = requirePendingIntent(tx, intentId)
  tx.setIntentStatus(intentId, "abandoned")
  appendAudit(tx, at, {
    actor,
    action: "rollback_abandoned",
    model: intent.model,
    version: intent.toVersion,
    fromStage: null,
    toStage: null,
    reason,
    details: { intent_id: intentId }
  })
}
