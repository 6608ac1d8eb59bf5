import { Schema } from "effect"
import type { AuditRecord } from "./registry.js"
import { sha256Hex } from "./hash.js"

/**
 * One file of a registered model version, content-addressed: its name inside the version's model
 * folder (artifacts/<run-id>/model/), its SHA-256 and size, recorded in the registry transaction
 * that registers the version.
 */
export const ArtifactFile = Schema.Struct({
  file: Schema.String,
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  bytes: Schema.Number
})
export type ArtifactFile = typeof ArtifactFile.Type

export const artifactFileOf = (file: string, data: Uint8Array): ArtifactFile => ({
  file,
  sha256: sha256Hex(data),
  bytes: data.byteLength
})

/** What one recorded file looks like on disk now: its bytes' digest, or null when it is gone. */
export type FileFinding =
  | { readonly file: string; readonly problem: "modified"; readonly recorded: string; readonly found: string }
  | { readonly file: string; readonly problem: "missing"; readonly recorded: string; readonly found: null }

/** Each recorded file against what is on disk (`found`: file → digest, absent when the file is gone). */
export const artifactFindings = (
  recorded: ReadonlyArray<ArtifactFile>,
  found: ReadonlyMap<string, string>
): ReadonlyArray<FileFinding> =>
  recorded.flatMap((r): FileFinding[] => {
    const digest = found.get(r.file)
    if (digest === undefined) return [{ file: r.file, problem: "missing", recorded: r.sha256, found: null }]
    if (digest !== r.sha256) return [{ file: r.file, problem: "modified", recorded: r.sha256, found: digest }]
    return []
  })

/**
 * The chain head kept outside the database: the newest audit record's position and hash, written
 * to <workspace>/audit-head after each registry transaction, and into each version's
 * registration.json. A log that ends before it, or holds a different record there, lost or
 * rewrote its tail.
 */
export const ChainAnchor = Schema.Struct({
  seq: Schema.Number,
  hash: Schema.String
})
export type ChainAnchor = typeof ChainAnchor.Type

export const AuditHeadFile = Schema.Struct({
  format: Schema.Literal("driftgate.audit_head/1"),
  seq: Schema.Number,
  hash: Schema.String,
  at: Schema.String
})
export type AuditHeadFile = typeof AuditHeadFile.Type

/** registration.json beside a registered version's files: who it is, its files and the chain at registration. */
export const RegistrationFile = Schema.Struct({
  format: Schema.Literal("driftgate.registration/1"),
  model: Schema.String,
  version: Schema.Number,
  run_id: Schema.String,
  registered_at: Schema.String,
  /** The audit record that registered the version. */
  audit: ChainAnchor,
  files: Schema.Array(ArtifactFile)
})
export type RegistrationFile = typeof RegistrationFile.Type

/** An anchor against the log: empty when the log holds the anchored record, unchanged. */
export const anchorProblems = (
  anchor: ChainAnchor,
  where: string,
  audit: ReadonlyArray<Pick<AuditRecord, "seq" | "hash">>
): ReadonlyArray<string> => {
  const last = audit.at(-1)?.seq ?? 0
  const record = audit.find((r) => r.seq === anchor.seq)
  if (record === undefined)
    return [
      `${where} records audit record ${anchor.seq}, but the audit log ends at record ${last}: the tail of the log was removed`
    ]
  if (record.hash !== anchor.hash)
    return [
      `${where} records audit record ${anchor.seq} with hash ${anchor.hash.slice(0, 12)}…, but the log holds ${record.hash.slice(0, 12)}… there: the log was rewritten`
    ]
  return []
}
