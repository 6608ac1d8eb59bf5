import { Effect, Option } from "effect"
import { type PipelineConfig, registeredModelName } from "../domain/config.js"
import { Cancelled, RegistryError, UsageError } from "../domain/errors.js"
import { describeIntent } from "../domain/rollbackText.js"
import { Prompt } from "../services/Prompt.js"
import { Registry } from "../services/Registry.js"
import { requireDeployable } from "./artifactIntegrity.js"
import { deploymentManifest } from "./deployStage.js"

export interface RollbackRequest {
  readonly config: PipelineConfig
  readonly version?: number | undefined
  readonly reason?: string | undefined
  readonly yes: boolean
  readonly actor: string
  /** Finish (true) an interrupted rollback instead of starting one. */
  readonly resume?: boolean
  /** Abandon an interrupted rollback, with this reason. */
  readonly abandon?: boolean
}

/**
 * Restores a previous version: an intent record first, then the transition (one transaction that
 * also writes the audit record and completes the intent). A crash between the two leaves a pending
 * intent that every later command reports and that --resume finishes or --abandon drops.
 */
export const rollback = Effect.fn("program.rollback")(function* (req: RollbackRequest) {
  const registry = yield* Registry
  const prompt = yield* Prompt
  const name = registeredModelName(req.config)
  const pending = (yield* registry.pendingRollbacks()).filter((i) => i.model === name)

  if (req.resume || req.abandon) {
    const intent = pending[0]
    if (intent === undefined)
      return yield* Effect.fail(
        new UsageError({
          message: `there is no interrupted rollback of ${name} to ${req.resume ? "resume" : "abandon"}`
        })
      )
    if (req.abandon) {
      const reason = req.reason?.trim() ?? ""
      if (reason === "")
        return yield* Effect.fail(
          new UsageError({
            message: `rollback --abandon needs --reason TEXT (recorded in the audit log) to drop ${describeIntent(intent)}`
          })
        )
      yield* registry.abandonRollback(intent.id, reason, req.actor)
      return { action: "abandoned" as const, intent, version: null }
    }
    const target = Option.getOrUndefined(yield* registry.getVersion(name, intent.toVersion))
    if (target !== undefined) yield* requireDeployable(target)
    const v = yield* registry.completeRollback(intent.id, req.actor)
    yield* deploymentManifest({ runId: `rollback-${intent.id}`, config: req.config, promotion: "approved" })
    return { action: "resumed" as const, intent, version: v }
  }
  if (pending.length > 0) {
    return yield* Effect.fail(
      new RegistryError({
        model: name,
        message: `${describeIntent(pending[0]!)} must be finished first: rerun with --resume to complete it or --abandon --reason TEXT to drop it`
      })
    )
  }

  const versions = yield* registry.listVersions(name)
  if (versions.length === 0)
    return yield* Effect.fail(
      new RegistryError({ model: name, message: `model ${name} has no registered versions to roll back to` })
    )
  const current = Option.getOrUndefined(yield* registry.getProduction(name))
  let target = req.version
  let reason = req.reason
  if (target === undefined || reason === undefined || !req.yes) {
    if (!prompt.interactive) {
      return yield* Effect.fail(
        new UsageError({ message: "rollback without a terminal needs --version N, --reason TEXT and --yes" })
      )
    }
    yield* prompt.say(
      [
        `Versions of ${name}:`,
        ...versions.map(
          (v) =>
            `  ${String(v.version).padStart(3)}  ${v.stage.padEnd(10)} run ${v.runId}  ${v.createdAt}${v.aliases.length ? `  [${v.aliases.join(", ")}]` : ""}`
        )
      ].join("\n")
    )
    const choices = versions.filter((v) => v.version !== current?.version).map((v) => String(v.version))
    if (choices.length === 0)
      return yield* Effect.fail(
        new RegistryError({ model: name, message: "there is no other version to roll back to" })
      )
    target ??= Number(yield* prompt.choose("Roll back to version", choices))
    reason ??= yield* prompt.ask("Reason for the rollback", {
      validate: (a) => (a.trim().length >= 3 ? undefined : "a reason is required")
    })
    if (!req.yes) {
      const ok = yield* prompt.choose(
        `Move version ${target} to Production${current ? ` and archive version ${current.version}` : ""}?`,
        ["yes", "no"] as const
      )
      if (ok !== "yes") return yield* Effect.fail(new Cancelled({ message: "rollback not confirmed; nothing changed" }))
    }
  }
  if (reason.trim() === "") return yield* Effect.fail(new UsageError({ message: "--reason may not be empty" }))
  // The target's files are checked before any stage moves: a rollback never deploys a gone or edited model.
  const targetVersion = versions.find((v) => v.version === target)
  if (targetVersion !== undefined) yield* requireDeployable(targetVersion)
  // Compare-and-set: the intent replaces the Production version the operator saw.
  const intent = yield* registry.beginRollback({
    name,
    toVersion: target,
    reason,
    actor: req.actor,
    replacing: current?.version ?? null
  })
  const v = yield* registry.completeRollback(intent.id)
  yield* deploymentManifest({ runId: `rollback-${intent.id}`, config: req.config, promotion: "approved" })
  return { action: "rolled_back" as const, intent, version: v, previous: current ?? null }
})
