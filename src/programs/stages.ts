import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { Approver } from "../services/Approver.js"
import type { Prompt } from "../services/Prompt.js"
import type { Storage } from "../services/Storage.js"
import type { Tracker } from "../services/Tracker.js"
import type { PipelineConfig, PipelineStage } from "../domain/config.js"
import type { DriftgateError } from "../domain/describe.js"
import type { UsageError } from "../domain/errors.js"
import type { PreparedData } from "./prepareData.js"
import type { RunInput } from "./runPipeline.js"

export type StageError = DriftgateError

/** What the stages of one run share: ids, anchors, and the keys of what earlier stages wrote. */
export interface PipelineContext {
  readonly runId: string
  readonly executionId: string
  readonly input: RunInput
  readonly anchors: Record<string, string>
  readonly config: PipelineConfig
  prepared: PreparedData | undefined
  artifacts: Record<string, unknown>
}

/** The services a stage may ask for (all provided by the live and test bundles). */
export type StageRequirements = Storage | Tracker | Prompt | Approver | FileSystem.FileSystem

export type StageImpl = (ctx: PipelineContext) => Effect.Effect<Readonly<Record<string, unknown>> | undefined, StageError, StageRequirements>

const notYet = (stage: string): StageImpl => () => Effect.fail(
  { _tag: "UsageError", message: `stage ${stage} is not available in this build` } as unknown as UsageError
)

export const stageTable: Record<PipelineStage, StageImpl> = {
  preprocessing: notYet("preprocessing"),
  training: notYet("training"),
  evaluation: notYet("evaluation"),
  model_analysis: notYet("model_analysis"),
  promotion: notYet("promotion"),
  deployment: notYet("deployment")
}
