import { Effect } from "effect"
import { registeredModelName, type Severity } from "../../domain/config.js"
import { DriftDetector } from "../../services/DriftDetector.js"
import { Registry } from "../../services/Registry.js"
import { UsageError } from "../../domain/errors.js"
import { describeError } from "../../domain/describe.js"
import { featureFrame, readFrame } from "../splitData.js"
import type { PipelineContext } from "../pipelineTypes.js"
import { deployedReference, latestDrift } from "./reference.js"
import { driftOneLine } from "./report.js"

/**
 * What the approval gate shows about drift (the latest check of the deployed model), and for a
 * drift promotion rule, the severity of the candidate's validation data against the deployed
 * model's reference profile.
 */
export const gateContext = (ctx: PipelineContext) =>
  Effect.gen(function* () {
    const latest = yield* latestDrift(registeredModelName(ctx.config))
    const driftSummary = latest === null ? null : driftOneLine(latest)
    const wantsDrift = (ctx.config.promotion.rules ?? []).some((r) => "drift" in r)
    let driftSeverity: Severity | { readonly error: string } | undefined
    if (wantsDrift) {
      const registry = yield* Registry
      const deployed = (yield* registry.getByStage(
        registeredModelName(ctx.config),
        ctx.config.deployment.allowed_stage
      ))[0]
      // Only the absence of a deployed model skips a drift rule; a check that cannot run fails it.
      if (deployed !== undefined) {
        const outcome = yield* Effect.either(
          Effect.gen(function* () {
            if (ctx.config.task_type === "image_classification") {
              return yield* Effect.fail(
                new UsageError({
                  message: "drift promotion rules apply to tabular pipelines; image drift is checked with drift monitor"
                })
              )
            }
            const ref = yield* deployedReference(ctx.config)
            const detector = yield* DriftDetector
            const spec = ctx.prepared!.spec
            const val = yield* readFrame(ctx.prepared!.splits.val.key, spec, spec.features)
            return (yield* detector.detect(ref.profile, featureFrame(val, spec.features), ctx.config.drift)).severity
          })
        )
        driftSeverity = outcome._tag === "Right" ? outcome.right : { error: describeError(outcome.left) }
      }
    }
    return { driftSummary, driftSeverity }
  })
