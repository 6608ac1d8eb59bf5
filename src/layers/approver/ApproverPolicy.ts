import { Effect, Layer } from "effect"
import { Approver } from "../../services/Approver.js"

export const AUTO_POLICY =
  "--approve auto: every promotion rule passed, so the candidate is approved without a human (explicit opt-in on the command line)"

/** Explicit opt-in automatic approval (CI): approves whatever passed the rules, and says so. */
export const ApproverPolicy = (actor = "policy") =>
  Layer.succeed(
    Approver,
    Approver.of({
      name: "policy",
      decide: () =>
        Effect.succeed({ outcome: "approved" as const, by: actor, reason: "approved by policy", policy: AUTO_POLICY })
    })
  )
