import type {
  ApprovalCancelled,
  ApprovalRejected,
  ConfigError,
  ContractViolation,
  DatasetNotFound,
  DatasetSpecMissing,
  DriftGateFailed,
  DriftInputError,
  PromotionBlocked,
  RegistryError,
  RunNotFound,
  StorageError,
  StoreError,
  TrainingError,
  UsageError
} from "./errors.js"

export type DriftgateError =
  | ConfigError
  | UsageError
  | DatasetNotFound
  | DatasetSpecMissing
  | ContractViolation
  | StorageError
  | StoreError
  | RunNotFound
  | TrainingError
  | PromotionBlocked
  | ApprovalRejected
  | ApprovalCancelled
  | RegistryError
  | DriftGateFailed
  | DriftInputError

const MAX_SHOWN = 12

/** One sentence per expected error, naming the file, column, key or rule at fault. */
export const describeError = (e: DriftgateError): string => {
  switch (e._tag) {
    case "ContractViolation": {
      const shown = e.violations
        .slice(0, MAX_SHOWN)
        .map(
          (v) =>
            `${v.column === null ? "" : `column ${v.column}: `}${v.rule} (observed ${v.observed}; expected ${v.expected})` +
            `${v.rows.length ? ` at line${v.rows.length > 1 ? "s" : ""} ${v.rows.join(", ")}` : ""}`
        )
      const more = e.violations.length > MAX_SHOWN ? `; and ${e.violations.length - MAX_SHOWN} more` : ""
      return `${e.file} failed validation for dataset ${e.dataset} with ${e.violations.length} violation(s): ${shown.join("; ")}${more}`
    }
    case "DatasetNotFound":
      return `dataset ${e.dataset}: ${e.message} (${e.path})`
    case "DatasetSpecMissing":
      return `${e.path} does not exist and there is no terminal to ask for it; create it with --target COLUMN --task classification|regression`
    case "ConfigError":
      return `${e.file}: ${e.message}`
    case "UsageError":
      return e.message
    case "PromotionBlocked":
      return `promotion of ${e.model} blocked by ${e.failures.length} rule(s): ${e.failures.map((f) => `${f.id} (${f.message})`).join("; ")}`
    case "ApprovalRejected":
      return `promotion of ${e.model} rejected by ${e.by}: ${e.reason}`
    case "ApprovalCancelled":
      return `promotion of ${e.model} cancelled by ${e.by}: ${e.reason}`
    case "StorageError":
      return `workspace ${e.op} of ${e.key} failed: ${e.message}`
    case "StoreError":
      return `store ${e.op} failed: ${e.message}`
    case "RunNotFound":
      return `no run with id ${e.runId} in this workspace`
    case "TrainingError":
      return `training ${e.model} failed: ${e.message}`
    case "RegistryError":
      return `registry, model ${e.model}: ${e.message}`
    case "DriftGateFailed":
      return `drift severity ${e.severity} for ${e.model} reaches fail_on_severity ${e.threshold} (report: ${e.report})`
    case "DriftInputError":
      return e.message
  }
}

/** DESIGN.md: 0 done · 1 unexpected · 2 blocked by a rule · 3 rejected/cancelled · 4 data validation · 64 usage/config. */
export const exitCodeOf = (e: DriftgateError): number => {
  switch (e._tag) {
    case "PromotionBlocked":
    case "DriftGateFailed":
      return 2
    case "ApprovalRejected":
    case "ApprovalCancelled":
      return 3
    case "ContractViolation":
    case "DatasetNotFound":
    case "DriftInputError":
      return 4
    case "ConfigError":
    case "UsageError":
    case "DatasetSpecMissing":
    case "RunNotFound":
    case "RegistryError":
      return 64
    case "StorageError":
    case "StoreError":
    case "TrainingError":
      return 1
  }
}
