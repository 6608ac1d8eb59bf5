import { Config, Effect, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"

export type AdminCheck = "ok" | "disabled" | "missing" | "wrong"

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

/**
 * Checks an Authorization header against the admin token. No token configured → "disabled" (the
 * endpoint is off, never open). The comparison is constant-time over equal-length SHA-256 digests,
 * so neither the token's content nor its length leaks through timing.
 */
export const makeAdminCheck = (token: string | undefined): ((authorization: string | undefined) => AdminCheck) => {
  if (token === undefined || token === "") return () => "disabled"
  const expected = digest(token)
  return (authorization) => {
    if (authorization === undefined) return "missing"
    const m = /^Bearer[ \t]+(.+)$/i.exec(authorization.trim())
    if (m === null) return "missing"
    return timingSafeEqual(digest(m[1]!.trim()), expected) ? "ok" : "wrong"
  }
}

/**
 * The admin token from the variable the serve config names (admin_token_env), read through Effect's
 * Config: the ConfigProvider in place decides where it comes from (the environment by default).
 * Unset → undefined (reload disabled).
 */
export const readAdminToken = (variable: string): Effect.Effect<string | undefined> =>
  Config.option(Config.redacted(variable)).pipe(
    Effect.map((token) => Option.getOrUndefined(Option.map(token, Redacted.value))),
    // Config.option turns a missing variable into None; a plain string cannot be invalid
    Effect.orDie
  )
