import type { AuditRecord, ModelVersion } from "../../domain/registry.js"
import { describeIntent } from "../../domain/rollbackText.js"
import type { StoreVerdict } from "../../programs/verifyStore.js"

/** One row of `driftgate registry list` (also its JSON). */
export interface RegistryRow {
  readonly name: string
  readonly versions: number
  readonly production: number | null
  readonly production_run: string | null
  readonly latest: number | null
}

/** The row of one model from its versions (oldest first, as the registry lists them). */
export const registryRow = (name: string, versions: ReadonlyArray<ModelVersion>): RegistryRow => {
  const prod = versions.find((v) => v.stage === "Production")
  return {
    name,
    versions: versions.length,
    production: prod?.version ?? null,
    production_run: prod?.runId ?? null,
    latest: versions.at(-1)?.version ?? null
  }
}

export const registryListText = (rows: ReadonlyArray<RegistryRow>): string =>
  rows.length === 0
    ? "no registered models"
    : [
        "model                     versions  production  latest",
        ...rows.map(
          (r) =>
            `${r.name.padEnd(25)} ${String(r.versions).padStart(8)}  ${String(r.production ?? "—").padStart(10)}  ${String(r.latest ?? "—").padStart(6)}`
        )
      ].join("\n")

export const registryShowText = (
  name: string,
  versions: ReadonlyArray<ModelVersion>,
  audit: ReadonlyArray<AuditRecord>
): string =>
  [
    `model ${name}`,
    "version  stage       run_id                                created_at                aliases",
    ...versions.map(
      (v) =>
        `${String(v.version).padStart(7)}  ${v.stage.padEnd(10)}  ${v.runId}  ${v.createdAt}  ${v.aliases.join(", ")}`
    ),
    "audit:",
    ...audit.map(
      (a) =>
        `  #${a.seq} ${a.at} ${a.actor} ${a.action}${a.version !== null ? ` v${a.version}` : ""}${a.fromStage || a.toStage ? ` ${a.fromStage ?? "—"} → ${a.toStage ?? "—"}` : ""}${a.reason ? `: ${a.reason}` : ""}`
    )
  ].join("\n")

export const registryVerifyText = (
  v: Pick<StoreVerdict, "ok" | "audit_records" | "problems" | "notes" | "checked" | "pending_rollbacks">
): string =>
  [
    v.ok
      ? `registry verified: ${v.audit_records} audit record(s)`
      : `registry verification FAILED (${v.problems.length} problem(s))`,
    ...(v.ok ? v.checked.map((c) => `  ok: ${c}`) : []),
    ...v.problems.map((p) => `  - ${p}`),
    ...v.notes.map((n) => `  note: ${n}`),
    ...v.pending_rollbacks.map((i) => `  pending: ${describeIntent(i)}`)
  ].join("\n")
