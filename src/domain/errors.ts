import { Schema } from "effect"

/** A config or dataset.yaml that cannot be decoded: names the file and the key path at fault. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  key: Schema.optional(Schema.String),
  message: Schema.String
}) {}

/** Bad command-line usage (exit 64). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

export class DatasetNotFound extends Schema.TaggedError<DatasetNotFound>()("DatasetNotFound", {
  dataset: Schema.String,
  path: Schema.String,
  message: Schema.String
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
  message: Schema.String
}) {}

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  op: Schema.String,
  message: Schema.String
}) {}

export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {}

export class TrainingError extends Schema.TaggedError<TrainingError>()("TrainingError", {
  model: Schema.String,
  message: Schema.String
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
  message: Schema.String
}) {}
