import { Schema } from "effect"

const Sha256 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "a full SHA-256 hex digest" }))
const Uuid7 = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, { message: () => "a UUIDv7" })
)

/** The anchors every run records and every registered version carries (DESIGN.md). */
export const LineageAnchors = Schema.Struct({
  execution_id: Uuid7,
  config_hash: Sha256,
  dataset_version: Sha256,
  random_seed: Schema.String.pipe(Schema.pattern(/^\d+$/)),
  run_id: Uuid7,
  driftgate_version: Schema.String.pipe(Schema.minLength(1)),
  /** git commit, or "unknown" outside a git checkout. */
  code_revision: Schema.String.pipe(Schema.minLength(1))
})
export type LineageAnchors = typeof LineageAnchors.Type

export const LINEAGE_KEYS = [
  "execution_id",
  "config_hash",
  "dataset_version",
  "random_seed",
  "run_id",
  "driftgate_version",
  "code_revision"
] as const

/** The lineage anchors that are missing or malformed in a tag set (empty when all are valid). */
export const lineageProblems = (tags: Readonly<Record<string, string>>): ReadonlyArray<string> => {
  const problems: string[] = []
  for (const k of LINEAGE_KEYS) {
    const v = tags[k]
    if (v === undefined || v === "") {
      problems.push(`${k} is missing`)
      continue
    }
    const field = LineageAnchors.fields[k]
    if (!Schema.is(field)(v)) problems.push(`${k} is malformed ("${v}")`)
  }
  return problems
}
