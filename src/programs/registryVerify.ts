import { Effect } from "effect"
import { replayProblems } from "../domain/registry.js"
import { Registry } from "../services/Registry.js"

/**
 * `registry verify`: the audit hash chain, at most one Production version per model, and every
 * model's stages and aliases replayed from the audit log. Problems are collected, not thrown: the
 * caller reports them all and decides the exit.
 */
export const verifyRegistry = Effect.fn("program.registryVerify")(function* () {
  const registry = yield* Registry
  const verdict = yield* registry.verify()
  const pending = yield* registry.pendingRollbacks()
  const problems = [...verdict.problems]
  const audit = yield* registry.audit()
  for (const m of yield* registry.listModels()) {
    const versions = yield* registry.listVersions(m.name)
    const prod = versions.filter((v) => v.stage === "Production")
    if (prod.length > 1)
      problems.push(`model ${m.name} has ${prod.length} Production versions (${prod.map((v) => v.version).join(", ")})`)
    problems.push(...replayProblems(audit, m.name, versions))
  }
  return { ok: problems.length === 0, audit_records: verdict.records, problems, pending_rollbacks: pending }
})

export type RegistryVerification = Effect.Effect.Success<ReturnType<typeof verifyRegistry>>
