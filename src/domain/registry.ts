import { Schema } from "effect"
import { Stage } from "./config.js"
import { canonicalJson, sha256Hex } from "./hash.js"

export { Stage }

export interface RegisteredModel {
  readonly name: string
  readonly createdAt: string
  readonly description: string | null
}

export interface ModelVersion {
  readonly name: string
  readonly version: number
  readonly runId: string
  readonly stage: Stage
  /** Path of the model folder (artifacts/<run-id>/model), relative to the workspace. */
  readonly artifactPath: string
  readonly tags: Readonly<Record<string, string>>
  readonly aliases: ReadonlyArray<string>
  readonly createdAt: string
  readonly updatedAt: string
}

export const AuditAction = Schema.Literal(
  "create_model",
  "create_version",
  "transition",
  "set_alias",
  "delete_alias",
  "promote",
  "rollback",
  "rollback_intent",
  "rollback_abandoned",
  "rejected",
  "cancelled",
  "set_tag"
)
export type AuditAction = typeof AuditAction.Type

export interface AuditEntry {
  readonly actor: string
  readonly action: AuditAction
  readonly model: string
  readonly version: number | null
  readonly fromStage: Stage | null
  readonly toStage: Stage | null
  readonly reason: string | null
  readonly details: Readonly<Record<string, unknown>>
}

/** An audit record as stored: the entry, its position and time, and the hash chain. */
export interface AuditRecord extends AuditEntry {
  readonly seq: number
  readonly at: string
  readonly prevHash: string
  readonly hash: string
}

export const GENESIS_HASH = "0".repeat(64)

/** The registry's version: the audit chain's head (seq 0 and the genesis hash for an empty log). */
export interface RegistryHead {
  readonly seq: number
  readonly hash: string
}

export const EMPTY_HEAD: RegistryHead = { seq: 0, hash: GENESIS_HASH }

export const sameHead = (a: RegistryHead, b: RegistryHead): boolean => a.seq === b.seq && a.hash === b.hash

/** A head as people read it: "seq 12 (3fa9c1d2e4b5)". */
export const headLabel = (h: RegistryHead): string => `seq ${h.seq} (${h.hash.slice(0, 12)})`

/**
 * What following the registry reports: a head (emitted when it differs from the last one, the
 * first one on subscribing), and how changes are being learnt ("listen": a PostgreSQL
 * notification channel; "poll": reading the head every interval).
 */
export type RegistryFollowEvent =
  | { readonly _tag: "Head"; readonly head: RegistryHead; readonly via: "listen" | "poll" }
  | { readonly _tag: "Mode"; readonly mode: "listen" | "poll"; readonly reason: string }

/** SHA-256 over the previous record's hash and this record's canonical content. */
export const auditHash = (r: Omit<AuditRecord, "hash">): string =>
  sha256Hex(
    r.prevHash +
      "\n" +
      canonicalJson({
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        model: r.model,
        version: r.version,
        fromStage: r.fromStage,
        toStage: r.toStage,
        reason: r.reason,
        details: r.details
      })
  )

export interface ChainVerdict {
  readonly ok: boolean
  readonly records: number
  readonly problems: ReadonlyArray<string>
}

/** Checks an audit log: consecutive sequence numbers, each prevHash linking, each hash recomputing. */
export const verifyChain = (records: ReadonlyArray<AuditRecord>): ChainVerdict => {
  const problems: string[] = []
  let prev = GENESIS_HASH
  records.forEach((r, i) => {
    if (r.seq !== i + 1)
      problems.push(`record ${i + 1} has sequence number ${r.seq} (a record is missing or out of order)`)
    if (r.prevHash !== prev) problems.push(`record ${r.seq} does not link to the record before it (prev_hash mismatch)`)
    const { hash: _h, ...rest } = r
    if (auditHash(rest) !== r.hash) problems.push(`record ${r.seq} was modified after it was written (hash mismatch)`)
    prev = r.hash
  })
  return { ok: problems.length === 0, records: records.length, problems }
}

export interface RollbackIntent {
  readonly id: string
  readonly model: string
  readonly fromVersion: number | null
  readonly toVersion: number
  readonly reason: string
  readonly actor: string
  readonly createdAt: string
  readonly status: "pending" | "completed" | "abandoned"
}

/**
 * Whether the audit log explains the registry's state: replaying its stage changes and alias moves
 * must give the stored stage of every version and the stored aliases. Catches a state change
 * written without its audit record, and records deleted from the end of the log together with
 * the changes they recorded being edited back by hand.
 */
export const replayProblems = (
  audit: ReadonlyArray<AuditRecord>,
  model: string,
  versions: ReadonlyArray<Pick<ModelVersion, "version" | "stage" | "aliases">>
): ReadonlyArray<string> => {
  const problems: string[] = []
  const stages = new Map<number, Stage>()
  const aliases = new Map<string, number>()
  for (const r of audit) {
    if (r.model !== model || r.version === null) continue
    if (r.toStage !== null) stages.set(r.version, r.toStage)
    if (r.action === "set_alias") aliases.set(String(r.details["alias"]), r.version)
  }
  for (const v of versions) {
    const logged = stages.get(v.version) ?? "None"
    if (logged !== v.stage)
      problems.push(`${model}: version ${v.version} is ${v.stage} but the audit log says ${logged}`)
    for (const a of v.aliases) {
      if (aliases.get(a) !== v.version)
        problems.push(
          `${model}: alias ${a} is on version ${v.version} but the audit log puts it on ${aliases.get(a) ?? "no version"}`
        )
    }
  }
  const aliasCount = versions.reduce((n, v) => n + v.aliases.length, 0)
  if (aliasCount !== aliases.size)
    problems.push(`${model}: ${aliasCount} alias(es) stored, ${aliases.size} in the audit log`)
  return problems
}
