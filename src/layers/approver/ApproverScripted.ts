import { Effect, Layer } from "effect"
import { Approver, type Decision, type PromotionRequest } from "../../services/Approver.js"

/** Returns scripted decisions in order and keeps the requests it was shown (tests). */
export const makeApproverScripted = (decisions: ReadonlyArray<Decision>) => {
  const queue = [...decisions]
  const requests: PromotionRequest[] = []
  const approver = Approver.of({
    name: "scripted",
    decide: (request) =>
      Effect.suspend(() => {
        requests.push(request)
        const d = queue.shift()
        return d === undefined ? Effect.dieMessage("ApproverScripted: no decision left") : Effect.succeed(d)
      })
  })
  return { approver, requests }
}

export const ApproverScripted = (decisions: ReadonlyArray<Decision>) =>
  Layer.sync(Approver, () => makeApproverScripted(decisions).approver)
