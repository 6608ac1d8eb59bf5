import type { ArtifactFile } from "../../domain/artifacts.js"
import type { AuditRecord, ModelVersion, RegisteredModel, RollbackIntent, Stage } from "../../domain/registry.js"

/** A version as stored: aliases live in their own table and are joined on read. */
export type StoredVersion = Omit<ModelVersion, "aliases">

/**
 * The primitive reads and writes of the registry's store, all inside one open transaction.
 * The SQLite and in-memory layers implement this; the rules in operations.ts are written once
 * against it, so both layers behave the same. A throw anywhere rolls the whole transaction back.
 */
export interface RegistryTx {
  readonly getModel: (name: string) => RegisteredModel | undefined
  readonly insertModel: (model: RegisteredModel) => void
  /** The model's versions, ascending by version number, with their aliases. */
  readonly versions: (name: string) => ReadonlyArray<ModelVersion>
  readonly insertVersion: (version: StoredVersion) => void
  /** Records a version's files (once, when it is registered). */
  readonly insertFiles: (name: string, version: number, files: ReadonlyArray<ArtifactFile>) => void
  /** A version's recorded files, in file-name order; undefined when none were recorded. */
  readonly files: (name: string, version: number) => ReadonlyArray<ArtifactFile> | undefined
  readonly setStage: (name: string, version: number, stage: Stage, at: string) => void
  readonly aliasTarget: (name: string, alias: string) => number | undefined
  readonly setAlias: (name: string, alias: string, version: number) => void
  /** The newest audit record's position and hash (undefined for an empty log). */
  readonly lastAudit: () => { readonly seq: number; readonly hash: string } | undefined
  readonly appendAudit: (record: AuditRecord) => void
  readonly getIntent: (id: string) => RollbackIntent | undefined
  readonly pendingIntent: (model: string) => RollbackIntent | undefined
  readonly insertIntent: (intent: RollbackIntent) => void
  readonly setIntentStatus: (id: string, status: RollbackIntent["status"]) => void
}
