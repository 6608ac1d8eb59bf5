import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from "fastify"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { Duplex } from "node:stream"

/**
 * The HTTP server under fastify, built here so that `request_timeout_ms` holds. fastify sets
 * `requestTimeout` on a server Node already created, which leaves Node's `headersTimeout` at 60 s
 * (Node derives it from requestTimeout only at construction) and Node sweeps expired connections
 * every 30 s: a client that sent its headers and part of a body was dropped after ~90 s, whatever
 * the config said. Here both deadlines are the configured one and the sweep runs at most 1 s apart,
 * so a stalled request gets its 408 within request_timeout_ms + 1 s.
 */
export const serverFactory =
  (requestTimeoutMs: number, keepAliveTimeoutMs = 72_000): NonNullable<FastifyServerOptions["serverFactory"]> =>
  (handler) => {
    const server = http.createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: requestTimeoutMs,
        connectionsCheckingInterval: sweepInterval(requestTimeoutMs)
      },
      handler
    )
    server.keepAliveTimeout = keepAliveTimeoutMs
    return server
  }

/** How often Node checks connections for an expired deadline: a quarter of it, between 50 ms and 1 s. */
export const sweepInterval = (requestTimeoutMs: number): number =>
  Math.min(1000, Math.max(50, Math.floor(requestTimeoutMs / 4)))

/** The one error body of the service. */
export const errorBody = (error: string, message: string, requestId: string) => ({
  error,
  message,
  request_id: requestId
})

const clientErrors: Record<string, { status: number; error: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    error: "request_timeout",
    message: "the request was not received in full within request_timeout_ms"
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    error: "headers_too_large",
    message: "the request line and headers exceed the server's limit (16 KiB)"
  }
}

/**
 * Refusals Node makes before fastify sees a request (a stalled request, oversized headers, bytes
 * that are not HTTP) answer with the same JSON body as every other error, with a request id of
 * their own (also in `x-request-id`), and close the connection.
 */
export const clientErrorHandler = (err: NodeJS.ErrnoException, socket: Duplex): void => {
  if (err.code === "ECONNRESET" || socket.destroyed) return
  const known = clientErrors[err.code ?? ""] ?? {
    status: 400,
    error: "bad_request",
    message: "the request is not valid HTTP"
  }
  if (socket.writable) {
    const id = randomUUID()
    const body = JSON.stringify(errorBody(known.error, known.message, id))
    socket.write(
      `HTTP/1.1 ${known.status} ${http.STATUS_CODES[known.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`
    )
  }
  socket.destroy(err)
}

/** fastify's own refusals before routing (a malformed URL → 400, a too-long path parameter → 414). */
export const frameworkErrors = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
  const status = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? 414 : (error.statusCode ?? 400)
  void reply
    .code(status)
    .header("x-request-id", request.id)
    .send(errorBody(status === 414 ? "uri_too_long" : "bad_request", error.message, request.id))
}

// ---- 405 -----------------------------------------------------------------------------------------

/** A route's path as segments: a literal, a parameter (one non-empty segment), or `*` (the rest). */
const compile = (url: string): ((path: ReadonlyArray<string>) => boolean) => {
  const parts = url.split("/")
  return (path) => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (p === "*") return true
      const seg = path[i]
      if (seg === undefined) return false
      if (p.startsWith(":")) {
        if (seg === "") return false
      } else if (p !== seg) return false
    }
    return path.length === parts.length
  }
}

/**
 * The methods each registered path answers, for 405s: a request to a known path with a method it
 * does not take gets 405 and an `Allow` header rather than "no route". Call before the routes are added.
 */
export const trackRoutes = (app: FastifyInstance): ((path: string) => ReadonlyArray<string>) => {
  const routes: Array<{
    readonly methods: ReadonlyArray<string>
    readonly matches: (p: ReadonlyArray<string>) => boolean
  }> = []
  app.addHook("onRoute", (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => String(m).toUpperCase())
    routes.push({ methods, matches: compile(route.url ?? route.path) })
  })
  return (path) => {
    const segments = path.split("?")[0]!.split("/")
    const allowed = new Set<string>()
    for (const r of routes) if (r.matches(segments)) for (const m of r.methods) allowed.add(m)
    return [...allowed].sort()
  }
}
