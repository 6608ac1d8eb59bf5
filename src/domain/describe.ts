import type {
  AlreadyStaged,
  ArtifactMismatch,
  ApprovalCancelled,
  ApprovalRejected,
  Cancelled,
  ConfigError,
  ContractViolation,
  DatasetNotFound,
  DatasetSpecMissing,
  DriftGateFailed,
  DriftInputError,
  DriftReferenceMissing,
  NoDeployedVersion,
  NotStaged,
  PromotionBlocked,
  RegistryError,
  RunNotEvaluated,
  RunNotFound,
  StaleComparison,
  StagingOutdated,
  StorageError,
  StoreError,
  StoreMissing,
  TrainingError,
  UsageError,
  WorkspaceFileInvalid
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
  | Cancelled
  | RegistryError
  | DriftGateFailed
  | DriftInputError
  | WorkspaceFileInvalid
  | NoDeployedVersion
  | DriftReferenceMissing
  | AlreadyStaged
  | NotStaged
  | StagingOutdated
  | RunNotEvaluated
  | ArtifactMismatch
  | StaleComparison
  | StoreMissing

export interface DescribeOptions {
  /** Append the chain of lower-level causes (better-sqlite3, a learner, a JSON parser), one per line. */
  readonly verbose?: boolean
}

const MAX_SHOWN = 12

/** What is wrong with a registered file, without naming the version (callers do). */
export const mismatchReason = (e: ArtifactMismatch): string =>
  e.problem === "missing"
    ? `its file ${e.file} is missing (registered with SHA-256 ${e.recorded.slice(0, 12)}…)`
    : `its file ${e.file} was modified after registration (SHA-256 recorded ${e.recorded.slice(0, 12)}…, found ${(e.found ?? "").slice(0, 12)}…)`

const versionName = (v: number | null) => (v === null ? "no Production version" : `version ${v}`)

/**
 * One sentence per expected error, naming the file, column, key or rule at fault; with
 * `verbose`, followed by the causes it wraps ("  caused by: SqliteError: database is locked").
 */
export const describeError = (e: DriftgateError, options?: DescribeOptions): string => {
  const sentence = sentenceOf(e)
  if (options?.verbose !== true) return sentence
  return [sentence, ...causeChain(e).map((c) => `  caused by: ${c}`)].join("\n")
}

const MAX_CAUSES = 8

/** The `cause` chain below an error, outermost first, as "Name: message" lines. */
export const causeChain = (e: unknown): ReadonlyArray<string> => {
  const out: string[] = []
  const seen = new Set<unknown>()
  let c = typeof e === "object" && e !== null ? (e as { cause?: unknown }).cause : undefined
  while (c !== undefined && c !== null && !seen.has(c) && out.length < MAX_CAUSES) {
    seen.add(c)
    if (c instanceof Error) {
      const code = (c as { code?: unknown }).code
      out.push(`${c.name}${typeof code === "string" ? ` (${code})` : ""}: ${c.message}`)
      c = (c as { cause?: unknown }).cause
    } else {
      out.push(typeof c === "object" ? JSON.stringify(c) : String(c))
      c = undefined
    }
  }
  return out
}

const sentenceOf = (e: DriftgateError): string => {
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
    case "Cancelled":
      return e.message
    case "RegistryError":
      return `registry, model ${e.model}: ${e.message}`
    case "DriftGateFailed":
      return `drift severity ${e.severity} for ${e.model} reaches fail_on_severity ${e.threshold} (report: ${e.report})`
    case "DriftInputError":
      return e.message
    case "WorkspaceFileInvalid":
      return `${e.file} is not a valid ${e.what}: ${e.message}`
    case "NoDeployedVersion":
      return `model ${e.model} has no ${e.stage} version ${e.purpose}`
    case "DriftReferenceMissing":
      return e.kind === "profile"
        ? `${e.model} version ${e.version} has no reference profile (${e.key}); retrain it with this driftgate`
        : `${e.model} version ${e.version} has no reference images (${e.key})`
    case "AlreadyStaged":
      return `drift training ${e.id} is already staged for ${e.dataset} (from ${e.batch}); run drift unstage-training first`
    case "NotStaged":
      return e.asked !== undefined && e.active !== undefined
        ? `the staged drift training of ${e.dataset} is ${e.active}, not ${e.asked}`
        : `no drift training is staged for ${e.dataset}`
    case "StagingOutdated":
      return e.message
    case "RunNotEvaluated":
      return `run ${e.runId} has no evaluated model in this workspace (no ${e.key}); only runs that reached evaluation can be promoted`
    case "ArtifactMismatch":
      return `${e.model} version ${e.version} is refused: ${mismatchReason(e)}`
    case "StaleComparison":
      return e.action === "promotion"
        ? `promotion of ${e.model} refused: run ${e.subject} was compared with ${versionName(e.comparedWith)} but Production is now ${versionName(e.current)}; re-evaluate it against the current Production (driftgate promote --run ${e.subject})`
        : e.subject.startsWith("to version ")
          ? `rollback of ${e.model} ${e.subject} refused: it was to replace ${versionName(e.comparedWith)} but Production is now ${versionName(e.current)}; look at the registry again and rerun`
          : `rollback of ${e.model} refused: intent ${e.subject} replaces ${versionName(e.comparedWith)} but Production is now ${versionName(e.current)}; abandon it (rollback --abandon --reason TEXT) and start again`
    case "StoreMissing":
      return e.workspaceExists
        ? `there is no store at ${e.path}: nothing has run in the workspace ${e.workspace} yet (read-only commands never create one)`
        : `the workspace ${e.workspace} does not exist (no store at ${e.path}); check --workspace or DRIFTGATE_WORKSPACE (read-only commands never create one)`
    default:
      return unmapped(e)
  }
}

/** A tagged error outside the union (a class added without a case here): its tag and message, never "undefined". */
const unmapped = (e: never): string => {
  const { _tag, message } = e as { readonly _tag: unknown; readonly message?: unknown }
  return `${String(_tag)}${typeof message === "string" && message !== "" ? `: ${message}` : ""}`
}

/** DESIGN.md: 0 done · 1 unexpected · 2 blocked by a rule · 3 rejected/cancelled · 4 data validation · 64 usage/config. */
export const exitCodeOf = (e: DriftgateError): number => {
  switch (e._tag) {
    case "PromotionBlocked":
    case "DriftGateFailed":
    case "StaleComparison":
      return 2
    case "ApprovalRejected":
    case "ApprovalCancelled":
    case "Cancelled":
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
    case "NoDeployedVersion":
    case "AlreadyStaged":
    case "NotStaged":
    case "StagingOutdated":
    case "RunNotEvaluated":
      return 64
    case "StorageError":
    case "StoreError":
    case "TrainingError":
    case "WorkspaceFileInvalid":
    case "DriftReferenceMissing":
    case "ArtifactMismatch":
    case "StoreMissing":
      return 1
    default:
      // Anything outside the union is an unexpected failure: it must never exit 0.
      return 1
  }
}
