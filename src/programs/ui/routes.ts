import { Cause, Effect, Exit, Option, Runtime } from "effect"
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify"
import { createHash, timingSafeEqual } from "node:crypto"
import { describeError, type DriftgateError } from "../../domain/describe.js"
import type { Registry } from "../../services/Registry.js"
import { Storage } from "../../services/Storage.js"
import type { Tracker } from "../../services/Tracker.js"
import { makeAdminCheck } from "../serve/adminToken.js"
import { CSS } from "./html.js"
import {
  comparePage,
  compareHelpPage,
  driftChartSpec,
  driftIndexPage,
  driftPage,
  errorPage,
  loginPage,
  modelPage,
  modelsPage,
  runPage,
  runsPage
} from "./pages.js"
import { type ChartSpec, renderSvg } from "../reports/charts.js"
import {
  allowedFile,
  compareView,
  driftModels,
  driftView,
  modelsView,
  modelView,
  runsParams,
  runsView,
  runView,
  type ServedNow
} from "./views.js"

export type UiServices = Tracker | Registry | Storage

export interface UiOptions {
  /** The services the pages read (the serving process's own, or `driftgate ui`'s). */
  readonly runtime: Runtime.Runtime<UiServices>
  /** Which version this process serves per model; absent: nothing is served here. */
  readonly served?: ServedNow | undefined
  /** ui.require_token: every dashboard request needs the admin token (header or the sign-in cookie). */
  readonly requireToken?: boolean | undefined
  readonly adminToken?: string | undefined
  /** The variable the admin token is read from, for the sentence when it is missing. */
  readonly adminTokenEnv?: string | undefined
  /** Where the dashboard lives (default /ui). */
  readonly prefix?: string | undefined
}

const PAGE_CSP =
  "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
/** Reports and artifacts are shown as documents without any script, whatever they contain. */
const FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

const COOKIE = "driftgate_ui"
const cookieValue = (token: string) => createHash("sha256").update(`driftgate-ui\n${token}`, "utf8").digest("hex")

const cookieOf = (header: string | undefined): string | undefined => {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

const sameSecret = (a: string, b: string) => {
  const x = createHash("sha256").update(a).digest()
  const y = createHash("sha256").update(b).digest()
  return timingSafeEqual(x, y)
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  json: "application/json; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png"
}

const one = (v: unknown): string | undefined => (Array.isArray(v) ? one(v[0]) : typeof v === "string" ? v : undefined)
const many = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === "string" && x !== "")

/**
 * The dashboard: server-rendered HTML over the Tracker, Registry and Storage, read-only (GET only,
 * but the sign-in form, which sets a cookie and changes nothing else). Registered in its own fastify
 * scope, so its form parser and error pages do not touch the prediction API.
 */
export const registerUi = async (app: FastifyInstance, options: UiOptions): Promise<void> => {
  const prefix = options.prefix ?? "/ui"
  const served: ServedNow = options.served ?? (() => undefined)
  const token = options.adminToken !== undefined && options.adminToken !== "" ? options.adminToken : undefined
  const bearer = makeAdminCheck(token)
  const run = Runtime.runPromiseExit(options.runtime)

  await app.register(async (ui) => {
    // the dashboard is not part of the prediction API's OpenAPI document
    ui.addHook("onRoute", (route) => {
      route.schema = { ...route.schema, hide: true }
    })
    ui.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))))
    })

    const html = (reply: FastifyReply, status: number, body: string) =>
      reply
        .code(status)
        .type("text/html; charset=utf-8")
        .header("content-security-policy", PAGE_CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .header("cache-control", "no-store")
        .send(body)

    const authorised = (request: FastifyRequest): "ok" | "disabled" | "missing" => {
      if (options.requireToken !== true) return "ok"
      if (token === undefined) return "disabled"
      if (bearer(request.headers.authorization) === "ok") return "ok"
      const cookie = cookieOf(request.headers.cookie)
      return cookie !== undefined && sameSecret(cookie, cookieValue(token)) ? "ok" : "missing"
    }

    ui.addHook("onRequest", (request, reply, done) => {
      const path = request.url.split("?")[0]!
      if (path === `${prefix}/login` || path === `${prefix}/assets/ui.css`) return done()
      const state = authorised(request)
      if (state === "ok") return done()
      if (state === "disabled")
        return void html(
          reply,
          403,
          errorPage(
            prefix,
            403,
            `the dashboard requires the admin token (ui.require_token: true) but ${options.adminTokenEnv ?? "DRIFTGATE_ADMIN_TOKEN"} is not set, so it is closed; set the variable, or set ui.require_token: false`
          )
        )
      return void reply.redirect(`${prefix}/login`, 303)
    })

    /** Runs a view; a failure is an error page with its one sentence (a missing run is a 404). */
    const page = async <A>(
      reply: FastifyReply,
      view: Effect.Effect<A, DriftgateError, UiServices>,
      render: (a: A) => string | Promise<string>
    ) => {
      const exit = await run(view)
      if (Exit.isSuccess(exit)) return html(reply, 200, await render(exit.value))
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) {
        const status = failure.value._tag === "RunNotFound" ? 404 : 500
        return html(reply, status, errorPage(prefix, status, describeError(failure.value)))
      }
      const defect = Cause.squash(exit.cause)
      return html(reply, 500, errorPage(prefix, 500, defect instanceof Error ? defect.message : String(defect)))
    }

    const sendFile = async (reply: FastifyReply, key: string | undefined) => {
      if (key === undefined) return html(reply, 404, errorPage(prefix, 404, "no such report or artifact here"))
      const exit = await run(Effect.flatMap(Storage, (s) => s.read(key)))
      if (Exit.isFailure(exit))
        return html(reply, 404, errorPage(prefix, 404, `${key} cannot be read from the workspace`))
      const name = key.slice(key.lastIndexOf("/") + 1)
      const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1).toLowerCase() : ""
      const type = CONTENT_TYPES[ext] ?? "application/octet-stream"
      return reply
        .code(200)
        .type(type)
        .header("content-security-policy", FILE_CSP)
        .header("x-content-type-options", "nosniff")
        .header(
          "content-disposition",
          `${ext === "html" ? "inline" : "attachment"}; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}"`
        )
        .send(Buffer.from(exit.value))
    }

    ui.get(`${prefix}/assets/ui.css`, (_request, reply) => {
      void reply.type("text/css; charset=utf-8").header("cache-control", "max-age=300").send(CSS)
    })
    ui.get(prefix, (_request, reply) => {
      void reply.redirect(`${prefix}/runs`, 302)
    })
    ui.get(`${prefix}/`, (_request, reply) => {
      void reply.redirect(`${prefix}/runs`, 302)
    })
    ui.get(`${prefix}/runs`, (request, reply) =>
      page(reply, runsView(runsParams(request.query as Record<string, unknown>)), (v) => runsPage(prefix, v))
    )
    ui.get<{ Params: { id: string } }>(`${prefix}/runs/:id`, (request, reply) =>
      page(reply, runView(request.params.id), (v) => runPage(prefix, v))
    )
    ui.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
      `${prefix}/runs/:id/file`,
      async (request, reply) => {
        const key = one(request.query["key"])
        if (key === undefined) return sendFile(reply, undefined)
        const exit = await run(allowedFile({ run: request.params.id, key }))
        return sendFile(reply, Exit.isSuccess(exit) ? exit.value : undefined)
      }
    )
    ui.get<{ Querystring: Record<string, unknown> }>(`${prefix}/compare`, (request, reply) => {
      const ids = [...new Set(many(request.query["run"]))]
      if (ids.length < 2)
        return html(
          reply,
          400,
          compareHelpPage(prefix, "Select two or more runs to compare (tick them in the run list).")
        )
      if (ids.length > 20) return html(reply, 400, compareHelpPage(prefix, "Compare at most 20 runs at once."))
      return page(reply, compareView(ids), (v) => comparePage(prefix, v))
    })
    ui.get(`${prefix}/models`, (_request, reply) => page(reply, modelsView(), (v) => modelsPage(prefix, v, served)))
    ui.get<{ Params: { name: string } }>(`${prefix}/models/:name`, (request, reply) =>
      page(reply, modelView(request.params.name), (v) =>
        v === undefined
          ? errorPage(prefix, 404, `no registered model named ${request.params.name}`)
          : modelPage(prefix, v, served)
      )
    )
    ui.get(`${prefix}/drift`, (_request, reply) => page(reply, driftModels(), (v) => driftIndexPage(prefix, v)))
    ui.get<{ Params: { name: string } }>(`${prefix}/drift/:name`, (request, reply) =>
      page(
        reply,
        // The chart is drawn in the same effect; one that cannot be drawn leaves its place empty.
        Effect.flatMap(driftView(request.params.name), (v) =>
          Effect.map(
            v.points.length > 0
              ? renderSvg("drift history", driftChartSpec(prefix, v) as unknown as ChartSpec).pipe(
                  Effect.orElseSucceed(() => "")
                )
              : Effect.succeed(""),
            (svg) => ({ v, svg })
          )
        ),
        ({ v, svg }) => driftPage(prefix, v, svg)
      )
    )
    ui.get<{ Params: { name: string }; Querystring: Record<string, unknown> }>(
      `${prefix}/drift/:name/report`,
      async (request, reply) => {
        const key = one(request.query["key"])
        if (key === undefined) return sendFile(reply, undefined)
        const exit = await run(allowedFile({ model: request.params.name, key }))
        return sendFile(reply, Exit.isSuccess(exit) ? exit.value : undefined)
      }
    )
    ui.get(`${prefix}/login`, (_request, reply) => html(reply, 200, loginPage(prefix, undefined)))
    ui.post<{ Body: Record<string, unknown> | undefined }>(`${prefix}/login`, (request, reply) => {
      if (options.requireToken !== true) return reply.redirect(`${prefix}/runs`, 303)
      if (token === undefined)
        return html(reply, 403, errorPage(prefix, 403, "the dashboard is closed: no admin token is set"))
      const given = one(request.body?.["token"])
      if (given === undefined || !sameSecret(given, token))
        return html(reply, 401, loginPage(prefix, "That is not the admin token."))
      return reply
        .header(
          "set-cookie",
          `${COOKIE}=${cookieValue(token)}; Path=${prefix}; HttpOnly; SameSite=Strict${request.protocol === "https" ? "; Secure" : ""}`
        )
        .redirect(`${prefix}/runs`, 303)
    })
  }, {})
}
