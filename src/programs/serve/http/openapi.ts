import type { FastifyInstance } from "fastify"
import type swagger from "@fastify/swagger"
import type swaggerUi from "@fastify/swagger-ui"
import { DRIFTGATE_VERSION } from "../../../version.js"

type SwaggerPlugin = typeof swagger
type SwaggerUiPlugin = typeof swaggerUi

/** The body of every error answer, as documented in the OpenAPI description. */
export const errorSchema = {
  type: "object",
  properties: {
    error: { type: "string" },
    message: { type: "string" },
    request_id: { type: "string" },
    fields: {
      type: "array",
      items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } }
    }
  }
}

const labelOrNumber = { oneOf: [{ type: "string" }, { type: "number" }] }
const probabilities = {
  type: "object",
  additionalProperties: { type: "number" },
  description: "class label → probability (classifiers)"
}

export const predictResponse = {
  description:
    "prediction(s) of the served version; `prediction`+`probabilities` for `features`, `predictions`+`probabilities[]` for `rows`",
  type: "object",
  properties: {
    model: { type: "string" },
    version: { type: "integer" },
    stage: { type: "string" },
    request_id: { type: "string" },
    prediction: labelOrNumber,
    probabilities: { oneOf: [probabilities, { type: "array", items: probabilities }] },
    predictions: { type: "array", items: labelOrNumber },
    unknown_categories: { type: "object", additionalProperties: { type: "integer" } }
  }
}

/**
 * The OpenAPI description (built from the routes' schemas) and Swagger UI at /docs. Registered
 * before the routes, so that the plugin sees every route as it is added.
 */
export const registerOpenApi = async (
  app: FastifyInstance,
  swagger: SwaggerPlugin,
  swaggerUi: SwaggerUiPlugin
): Promise<void> => {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "driftgate prediction service",
        version: DRIFTGATE_VERSION,
        description: "Predictions from the registry's models, with their fitted transforms."
      },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } }
    }
  })
  await app.register(swaggerUi, { routePrefix: "/docs" })
}

/** GET /openapi.json: the description itself (hidden from it). */
export const registerOpenApiDocument = (app: FastifyInstance): void => {
  app.get("/openapi.json", { schema: { hide: true } }, (_request, reply) => {
    reply.send(app.swagger())
  })
}
