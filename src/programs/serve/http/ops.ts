import type { FastifyInstance } from "fastify"
import { pendingRollbackJson } from "../../../domain/rollbackText.js"
import type { ModelSet } from "../modelSet.js"
import type { ServeMetrics } from "../metrics.js"
import { describeModel, modelSummary } from "./presentation.js"
import type { ServedState } from "./state.js"

const pendingOf = (set: ModelSet) => (set.pendingRollbacks ?? []).map(pendingRollbackJson)

/** Why /ready reports pending rollbacks: the versions served are the pre-rollback ones. */
const pendingReason = (set: ModelSet) => {
  const pending = set.pendingRollbacks ?? []
  return pending.length === 0
    ? {}
    : {
        reason: `${pending.length} interrupted rollback(s) pending (${pending.map((i) => `${i.model} to version ${i.toVersion}`).join(", ")}): the versions served are the pre-rollback ones until \`driftgate rollback --config <config> --resume\` (or \`--abandon --reason TEXT\`) finishes them`
      }
}

/** The registry version a set was loaded from: the audit head's seq and the first 12 hex of its hash. */
const registryVersion = (set: ModelSet) =>
  set.registryHead === undefined ? null : { seq: set.registryHead.seq, hash: set.registryHead.hash.slice(0, 12) }

/** GET /models, /health, /ready and /metrics: what is served, liveness, readiness, Prometheus. */
export const registerOps = (app: FastifyInstance, state: ServedState, metrics: ServeMetrics): void => {
  app.get(
    "/models",
    {
      schema: { summary: "The served models: version, stage, algorithm, lineage and input features", tags: ["models"] }
    },
    (_request, reply) => {
      const set = state.current()
      const pending = pendingOf(set)
      reply.send({
        stage: set.stage,
        loaded_at: set.loadedAt,
        notes: set.notes,
        pending_rollbacks: pending,
        models: [...set.models.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((m) => ({ ...describeModel(m), pending_rollback: pending.find((p) => p.model === m.name) ?? null }))
      })
    }
  )

  app.get(
    "/health",
    { schema: { summary: "Liveness: 200 while the process serves", tags: ["ops"] } },
    (_request, reply) => {
      reply.send({ status: "ok" })
    }
  )

  app.get(
    "/ready",
    {
      schema: { summary: "Readiness: 200 when at least one model is loaded, else 503 with the reason", tags: ["ops"] }
    },
    (_request, reply) => {
      const set = state.current()
      const models = [...set.models.values()].map(modelSummary)
      const lastReload = state.lastReload()
      if (models.length > 0) {
        reply.send({
          status: "ready",
          ...pendingReason(set),
          stage: set.stage,
          models,
          notes: set.notes,
          pending_rollbacks: pendingOf(set),
          last_reload: lastReload,
          registry: registryVersion(set)
        })
        return
      }
      reply.code(503).send({
        status: "not_ready",
        reason: `no model is loaded at stage ${set.stage}${set.notes.length ? `: ${set.notes.join("; ")}` : ""}`,
        stage: set.stage,
        models,
        pending_rollbacks: pendingOf(set),
        last_reload: lastReload,
        registry: registryVersion(set)
      })
    }
  )

  app.get("/metrics", { schema: { summary: "Prometheus metrics", tags: ["ops"] } }, async (_request, reply) => {
    const text = await metrics.registry.metrics()
    reply.type(metrics.registry.contentType).send(text)
  })
}
