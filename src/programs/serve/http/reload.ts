import type { FastifyInstance } from "fastify"
import { makeAdminCheck } from "../adminToken.js"
import { errorSchema } from "./openapi.js"
import { modelSummary } from "./presentation.js"
import type { ServedState } from "./state.js"

/**
 * POST /admin/reload: re-reads the registry and swaps the served set atomically, behind a bearer
 * token. No token configured → 403, naming the env var that would enable it.
 */
export const registerReload = (
  app: FastifyInstance,
  state: ServedState,
  adminToken: string | undefined,
  adminTokenEnv: string
): void => {
  const adminCheck = makeAdminCheck(adminToken)
  app.post(
    "/admin/reload",
    {
      schema: {
        summary: "Re-read the registry and swap the served model set atomically (bearer token)",
        tags: ["ops"],
        security: [{ bearerAuth: [] }],
        response: { 401: errorSchema, 403: errorSchema, 503: errorSchema }
      },
      // The token is checked before the body is read: an unauthenticated client learns nothing else.
      onRequest: async (request, reply) => {
        const check = adminCheck(request.headers.authorization)
        if (check === "disabled") {
          return reply.code(403).send({
            error: "reload_disabled",
            message: `reload is disabled: no admin token is configured (set ${adminTokenEnv} to enable it)`,
            request_id: request.id
          })
        }
        if (check !== "ok") {
          return reply
            .code(401)
            .header("www-authenticate", 'Bearer realm="driftgate"')
            .send({
              error: "unauthorized",
              message:
                check === "missing"
                  ? "reload needs an Authorization: Bearer <token> header"
                  : "the bearer token is not valid",
              request_id: request.id
            })
        }
      }
    },
    async (request, reply) => {
      const r = await state.reload()
      if (!r.ok) {
        return reply.code(503).send({
          error: "reload_failed",
          message: `reload failed, still serving the previous models: ${r.error}`,
          models: [...state.current().models.values()].map(modelSummary),
          request_id: request.id
        })
      }
      return reply.send({
        status: "reloaded",
        models: [...r.set.models.values()].map(modelSummary),
        previous: [...r.previous.models.values()].map(modelSummary),
        notes: r.set.notes,
        request_id: request.id
      })
    }
  )
}
