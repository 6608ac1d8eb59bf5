import { Effect, Layer } from "effect"
import { Approver, type MetricComparison, type PromotionRequest } from "../../services/Approver.js"
import { Prompt } from "../../services/Prompt.js"

const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(4))

const table = (rows: ReadonlyArray<MetricComparison>): string =>
  [
    "  metric            split  candidate  production  delta    verdict",
    ...rows.map(
      (c) =>
        `  ${c.metric.padEnd(17)} ${c.split.padEnd(6)} ${fmt(c.candidate).padStart(9)}  ${fmt(c.production).padStart(10)}  ${(c.delta === null ? "—" : (c.delta >= 0 ? "+" : "") + c.delta.toFixed(4)).padStart(7)}  ${c.verdict}`
    )
  ].join("\n")

export const describeRequest = (r: PromotionRequest): string =>
  [
    `Promotion request for ${r.model} (run ${r.runId})`,
    r.production
      ? `Current Production: version ${r.production.version} (run ${r.production.runId})`
      : "No Production version yet.",
    "Rules:",
    ...r.rules.map((x) => `  ${x.passed ? "PASS" : "FAIL"} ${x.id}: ${x.message}`),
    "Metrics against Production:",
    table(r.comparison),
    ...(r.driftEvaluation ? ["On the held-out drifted set (staged drift training):", table(r.driftEvaluation)] : []),
    `Latest drift check: ${r.driftSummary ?? "none recorded"}`
  ].join("\n")

/** Asks a person on the terminal: approve / reject (reason required) / cancel. */
export const ApproverTerminal = Layer.effect(
  Approver,
  Effect.gen(function* () {
    const prompt = yield* Prompt
    const user = process.env.USER ?? process.env.USERNAME ?? "operator"
    return Approver.of({
      name: "terminal",
      decide: (request) =>
        Effect.gen(function* () {
          yield* prompt.say(describeRequest(request))
          const choice = yield* prompt.choose("Approve this promotion?", ["approve", "reject", "cancel"] as const)
          const required = (a: string) =>
            a.trim().length >= 3 ? undefined : "a reason is required (at least 3 characters)"
          if (choice === "approve") {
            const reason = yield* prompt.ask("Reason (optional)", { default: "approved at the terminal" })
            return { outcome: "approved" as const, by: `user:${user}`, reason }
          }
          if (choice === "reject") {
            const reason = yield* prompt.ask("Reason for rejecting", { validate: required })
            return { outcome: "rejected" as const, by: `user:${user}`, reason }
          }
          return { outcome: "cancelled" as const, by: `user:${user}`, reason: "cancelled at the terminal" }
        })
    })
  })
)
