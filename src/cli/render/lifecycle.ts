import type { Effect } from "effect"
import type { promoteRun } from "../../programs/promoteRun.js"
import { describeIntent } from "../../domain/rollbackText.js"
import type { rollback } from "../../programs/rollback.js"

export type Promoted = Effect.Effect.Success<ReturnType<typeof promoteRun>>
export type RolledBack = Effect.Effect.Success<ReturnType<typeof rollback>>

export const promotedText = (runId: string, r: Promoted): string =>
  `run ${runId} promoted: ${r.version.name} version ${r.version.version} is now ${r.version.stage} (readiness ${r.manifest.readiness})`

export const rollbackText = (r: RolledBack): string =>
  r.action === "abandoned"
    ? `abandoned ${describeIntent(r.intent)}`
    : `${r.version!.name} version ${r.version!.version} is Production again${r.action === "resumed" ? " (interrupted rollback finished)" : ""}`
