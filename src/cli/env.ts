import { Config, Effect, Option } from "effect"
import { execFileSync } from "node:child_process"

/** The git commit recorded as the code_revision anchor: DRIFTGATE_CODE_REVISION, else `git rev-parse HEAD`. */
export const codeRevision: Effect.Effect<string, never> = Config.option(
  Config.nonEmptyString("DRIFTGATE_CODE_REVISION")
).pipe(
  Effect.orElseSucceed(() => Option.none<string>()),
  Effect.map((fromEnv) => Option.getOrElse(fromEnv, gitHead))
)

const gitHead = (): string => {
  try {
    return (
      execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"], timeout: 2000 })
        .toString()
        .trim() || "unknown"
    )
  } catch {
    return "unknown"
  }
}

/** Who is acting, for the audit log: `user:$USER` (or $USERNAME), else `user:operator`. */
export const actor: Effect.Effect<string, never> = Config.nonEmptyString("USER").pipe(
  Config.orElse(() => Config.nonEmptyString("USERNAME")),
  Config.withDefault("operator"),
  Config.map((name) => `user:${name}`),
  Effect.orElseSucceed(() => "user:operator")
)
