import { Effect } from "effect"
import { registeredModelName, type Severity } from "../../domain/config.js"
import { DriftDetector } from "../../services/DriftDetector.js"
import { featureFrame, readFrame } from "../splitData.js"
import type { PipelineContext } from "../stages.js"
import { deployedReference, latestDrift } from "./monitor.js"
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
    let driftSeverity: Severity | undefined
    if (wantsDrift) {
      const ref = yield* Effect.either(deployedReference(ctx.config))
      if (ref._tag === "Right") {
        const detector = yield* DriftDetector
        const spec = ctx.prepared!.spec
        const val = yield* readFrame(ctx.prepared!.splits.val.key, spec, spec.features)
        const result = yield* Effect.either(detector.detect(ref.right.profile, featureFrame(val, spec.features), ctx.config.drift))
        if (result._tag === "Right") driftSeverity = result.right.severity
      }
    }
    return { driftSummary, driftSeverity }
  })
