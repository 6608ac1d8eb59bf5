import { Schema } from "effect"

/**
 * The lower-level failure an error wraps (a better-sqlite3 exception, a learner's throw, a JSON
 * syntax error), kept so that --verbose can show where it came from; never part of the sentence.
 */
const Cause = Schema.optional(Schema.Defect)

/** A config or dataset.yaml that cannot be decoded: names the file and the key path at fault. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  key: Schema.optional(Schema.String),
  message: Schema.String,
  cause: Cause
}) {}

/** Bad command-line usage (exit 64): a flag, argument or combination the command does not accept. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

export class DatasetNotFound extends Schema.TaggedError<DatasetNotFound>()("DatasetNotFound", {
  dataset: Schema.String,
  path: Schema.String,
  message: Schema.String,
  cause: Cause
}) {}

/** dataset.yaml is missing and cannot be created without asking (headless). */
export class DatasetSpecMissing extends Schema.TaggedError<DatasetSpecMissing>()("DatasetSpecMissing", {
  dataset: Schema.String,
  path: Schema.String
}) {}

export const Violation = Schema.Struct({
  column: Schema.NullOr(Schema.String),
  rule: Schema.String,
  observed: Schema.String,
  expected: Schema.String,
  /** First offending data rows, 1-based line numbers of the CSV file (the header is line 1). */
  rows: Schema.Array(Schema.Number)
})
export type Violation = typeof Violation.Type

/** Every structural and contract violation found in a dataset, reported at once (exit 4). */
export class ContractViolation extends Schema.TaggedError<ContractViolation>()("ContractViolation", {
  dataset: Schema.String,
  file: Schema.String,
  violations: Schema.Array(Violation)
}) {}

export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  op: Schema.String,
  key: Schema.String,
  message: Schema.String,
  cause: Cause
}) {}

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  op: Schema.String,
  message: Schema.String,
  cause: Cause
}) {}

export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {}

export class TrainingError extends Schema.TaggedError<TrainingError>()("TrainingError", {
  model: Schema.String,
  message: Schema.String,
  cause: Cause
}) {}

export const RuleFailure = Schema.Struct({
  id: Schema.String,
  metric: Schema.String,
  split: Schema.String,
  operator: Schema.String,
  threshold: Schema.NullOr(Schema.Number),
  observed: Schema.NullOr(Schema.Number),
  message: Schema.String
})
export type RuleFailure = typeof RuleFailure.Type

/** One or more promotion rules failed (exit 2); nothing was registered. */
export class PromotionBlocked extends Schema.TaggedError<PromotionBlocked>()("PromotionBlocked", {
  model: Schema.String,
  failures: Schema.Array(RuleFailure)
}) {}

/** The approver rejected the promotion (exit 3); the reason is recorded. */
export class ApprovalRejected extends Schema.TaggedError<ApprovalRejected>()("ApprovalRejected", {
  model: Schema.String,
  by: Schema.String,
  reason: Schema.String
}) {}

/** The approval was cancelled, e.g. headless without --approve auto (exit 3). */
export class ApprovalCancelled extends Schema.TaggedError<ApprovalCancelled>()("ApprovalCancelled", {
  model: Schema.String,
  by: Schema.String,
  reason: Schema.String
}) {}

/** The operator declined an interactive confirmation (rollback's "Move version N to Production?"); nothing changed (exit 3). */
export class Cancelled extends Schema.TaggedError<Cancelled>()("Cancelled", {
  message: Schema.String
}) {}

/** A registry operation that breaks a rule (unknown version, missing lineage, rollback to current …). */
export class RegistryError extends Schema.TaggedError<RegistryError>()("RegistryError", {
  model: Schema.String,
  message: Schema.String
}) {}

/** A drift check that fails the CI gate (exit 2): severity at or above fail_on_severity. */
export class DriftGateFailed extends Schema.TaggedError<DriftGateFailed>()("DriftGateFailed", {
  model: Schema.String,
  severity: Schema.String,
  threshold: Schema.String,
  report: Schema.String
}) {}

/** A batch that the drift detector refuses (too small, no usable columns). */
export class DriftInputError extends Schema.TaggedError<DriftInputError>()("DriftInputError", {
  message: Schema.String,
  cause: Cause
}) {}

/** A JSON file driftgate wrote into its workspace that no longer reads back as what it was (exit 1). */
export class WorkspaceFileInvalid extends Schema.TaggedError<WorkspaceFileInvalid>()("WorkspaceFileInvalid", {
  file: Schema.String,
  what: Schema.String,
  message: Schema.String,
  cause: Cause
}) {}

/** The model has no version at its deployment stage, and the command needs one (exit 64). */
export class NoDeployedVersion extends Schema.TaggedError<NoDeployedVersion>()("NoDeployedVersion", {
  model: Schema.String,
  stage: Schema.String,
  /** How the sentence ends: what the deployed version was needed for. */
  purpose: Schema.String
}) {}

/** The deployed version lacks the drift reference trained with it (profile or images), exit 1. */
export class DriftReferenceMissing extends Schema.TaggedError<DriftReferenceMissing>()("DriftReferenceMissing", {
  model: Schema.String,
  version: Schema.Number,
  kind: Schema.Literal("profile", "images"),
  key: Schema.String
}) {}

/** A drift-training batch is already staged for the dataset (exit 64). */
export class AlreadyStaged extends Schema.TaggedError<AlreadyStaged>()("AlreadyStaged", {
  dataset: Schema.String,
  id: Schema.String,
  batch: Schema.String
}) {}

/** No drift-training batch is staged (or not the one named) for the dataset (exit 64). */
export class NotStaged extends Schema.TaggedError<NotStaged>()("NotStaged", {
  dataset: Schema.String,
  /** The id asked for, and the id actually staged, when they differ. */
  asked: Schema.optional(Schema.String),
  active: Schema.optional(Schema.String)
}) {}

/** The raw data changed since a drift-training batch was staged against it (exit 64). */
export class StagingOutdated extends Schema.TaggedError<StagingOutdated>()("StagingOutdated", {
  dataset: Schema.String,
  id: Schema.String,
  message: Schema.String
}) {}

/** `promote --run` for a run that did not reach evaluation in this workspace (exit 64). */
export class RunNotEvaluated extends Schema.TaggedError<RunNotEvaluated>()("RunNotEvaluated", {
  runId: Schema.String,
  key: Schema.String
}) {}

/**
 * A registered version's file no longer matches the SHA-256 recorded when it was registered, or is
 * gone (exit 1): the version is refused wherever it would be loaded.
 */
export class ArtifactMismatch extends Schema.TaggedError<ArtifactMismatch>()("ArtifactMismatch", {
  model: Schema.String,
  version: Schema.Number,
  /** The file's workspace key (artifacts/<run-id>/model/<file>). */
  file: Schema.String,
  problem: Schema.Literal("modified", "missing"),
  recorded: Schema.String,
  found: Schema.NullOr(Schema.String)
}) {}

/**
 * Compare-and-set: Production changed between the comparison (or the rollback's intent) and the
 * registry transaction that would act on it (exit 2); nothing was changed.
 */
export class StaleComparison extends Schema.TaggedError<StaleComparison>()("StaleComparison", {
  model: Schema.String,
  action: Schema.Literal("promotion", "rollback"),
  /** The Production version the decision was based on (null: there was none). */
  comparedWith: Schema.NullOr(Schema.Number),
  /** The Production version now (null: there is none). */
  current: Schema.NullOr(Schema.Number),
  /** The run being promoted, or the rollback intent id. */
  subject: Schema.String
}) {}

/** A read-only command pointed at a workspace without a store: nothing is created (exit 1). */
export class StoreMissing extends Schema.TaggedError<StoreMissing>()("StoreMissing", {
  path: Schema.String,
  workspace: Schema.String,
  workspaceExists: Schema.Boolean
}) {}
