import { Effect, Layer } from "effect"
import { Approver } from "../../services/Approver.js"

/** The default without a terminal: nobody can approve, so the promotion is cancelled (and recorded). */
export const ApproverHeadlessCancel = Layer.succeed(
  Approver,
  Approver.of({
    name: "headless-cancel",
    decide: () =>
      Effect.succeed({
        outcome: "cancelled" as const,
        by: "headless",
        reason:
          "no interactive terminal to approve the promotion; rerun on a terminal, or pass --approve auto to approve by policy"
      })
  })
)
