import { Context, type Effect, type Option, type Stream } from "effect"
import type { ArtifactFile } from "../domain/artifacts.js"
import type { RegistryError, StaleComparison, StoreError } from "../domain/errors.js"
import type {
  AuditEntry,
  AuditRecord,
  ChainVerdict,
  ModelVersion,
  RegisteredModel,
  RegistryFollowEvent,
  RegistryHead,
  RollbackIntent,
  Stage
} from "../domain/registry.js"

export interface PromoteInput {
  readonly name: string
  readonly runId: string
  readonly artifactPath: string
  /** Must carry every lineage anchor (see domain/lineage.ts), or the promotion is refused. */
  readonly tags: Readonly<Record<string, string>>
  readonly actor: string
  readonly reason: string
  readonly stage?: "Production" | "Staging"
  readonly aliases?: ReadonlyArray<string>
  readonly details?: Readonly<Record<string, unknown>>
  /**
   * Every file of the version's model folder with its SHA-256, recorded in the same transaction
   * (and in the promote audit record). Absent: the version is registered unverifiable.
   */
  readonly files?: ReadonlyArray<ArtifactFile>
  /**
   * Compare-and-set: the Production version the candidate was compared with (null: there was none).
   * If Production is another version when the transaction runs, it fails with StaleComparison and
   * changes nothing. Absent: no check.
   */
  readonly comparedWith?: number | null
}

/** What the store says about itself beyond the audit chain: its own integrity and its anchors. */
export interface StoreInspection {
  /** Checks that ran, in words ("SQLite integrity_check", …). */
  readonly checked: ReadonlyArray<string>
  readonly problems: ReadonlyArray<string>
  /** Facts worth saying that are not failures (an old store without an anchor file, …). */
  readonly notes: ReadonlyArray<string>
}

/**
 * Registered models, versions, stages, aliases and an append-only, hash-chained audit log.
 * Every change is one transaction, and at most one version per model is in Production.
 */
export class Registry extends Context.Tag("driftgate/Registry")<
  Registry,
  {
    readonly listModels: () => Effect.Effect<ReadonlyArray<RegisteredModel>, StoreError>
    readonly listVersions: (name: string) => Effect.Effect<ReadonlyArray<ModelVersion>, StoreError>
    readonly getVersion: (name: string, version: number) => Effect.Effect<Option.Option<ModelVersion>, StoreError>
    readonly getByStage: (name: string, stage: Stage) => Effect.Effect<ReadonlyArray<ModelVersion>, StoreError>
    readonly getProduction: (name: string) => Effect.Effect<Option.Option<ModelVersion>, StoreError>
    /**
     * Registers a new version and, in the same transaction, moves it to `stage` (default Production),
     * archives the previous holder of that stage, moves the aliases (default: ["champion"] for Production, none for Staging) and appends
     * the audit records. Refused (RegistryError) when a lineage anchor is missing.
     */
    readonly promote: (input: PromoteInput) => Effect.Effect<ModelVersion, RegistryError | StaleComparison | StoreError>
    /** Moves a version to a stage (archiving the current Production when the target is Production). */
    readonly transition: (input: {
      readonly name: string
      readonly version: number
      readonly to: Stage
      readonly actor: string
      readonly reason: string
    }) => Effect.Effect<ModelVersion, RegistryError | StoreError>
    readonly setAlias: (input: {
      readonly name: string
      readonly alias: string
      readonly version: number
      readonly actor: string
    }) => Effect.Effect<void, RegistryError | StoreError>
    /** Appends a record that changes no state (rejections, cancellations) to the audit log. */
    readonly record: (entry: AuditEntry) => Effect.Effect<AuditRecord, StoreError>
    /** Rollback, step 1: an intent record, written before the registry is touched. */
    readonly beginRollback: (input: {
      readonly name: string
      readonly toVersion: number
      readonly reason: string
      readonly actor: string
      /** Compare-and-set: the Production version the operator saw and confirmed replacing (null: none). */
      readonly replacing?: number | null
    }) => Effect.Effect<RollbackIntent, RegistryError | StaleComparison | StoreError>
    /**
     * Rollback, step 2: in one transaction, the target to Production, the current to Archived, the
     * audit record, the intent completed. StaleComparison when Production is no longer the version
     * the intent recorded replacing.
     */
    readonly completeRollback: (
      intentId: string,
      actor?: string
    ) => Effect.Effect<ModelVersion, RegistryError | StaleComparison | StoreError>
    readonly abandonRollback: (
      intentId: string,
      reason: string,
      actor: string
    ) => Effect.Effect<void, RegistryError | StoreError>
    readonly pendingRollbacks: () => Effect.Effect<ReadonlyArray<RollbackIntent>, StoreError>
    readonly audit: (name?: string) => Effect.Effect<ReadonlyArray<AuditRecord>, StoreError>
    readonly verify: () => Effect.Effect<ChainVerdict, StoreError>
    /** The files recorded for a version; None when it was registered before hashes were recorded (or without them). */
    readonly artifactFiles: (
      name: string,
      version: number
    ) => Effect.Effect<Option.Option<ReadonlyArray<ArtifactFile>>, StoreError>
    /** The store's own integrity and the chain's anchor outside it (see docs/registry.md). */
    readonly inspectStore: () => Effect.Effect<StoreInspection, StoreError>
    /** The registry's version: the audit chain's head (every change appends to the chain). */
    readonly head: () => Effect.Effect<RegistryHead, StoreError>
    /**
     * Follows the registry: the head on subscribing and again whenever it moves (changes made by
     * other processes included), and how changes are learnt (Mode events). PostgreSQL: LISTEN on the
     * registry channel, polling every `pollMs` while that connection is down and reconnecting with
     * backoff; SQLite and memory: polling every `pollMs` (default 1000). `poll`: poll on PostgreSQL
     * too. Never fails: a failed read is retried at the next interval.
     */
    readonly changes: (options?: {
      readonly pollMs?: number | undefined
      readonly poll?: boolean | undefined
    }) => Stream.Stream<RegistryFollowEvent>
  }
>() {}
