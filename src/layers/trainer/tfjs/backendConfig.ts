// DRIFTGATE_TF_BACKEND through Effect's Config, apart from backend.ts so that reading it loads no tfjs.
import { Config, ConfigError, Either } from "effect"
import type { TfBackendPreference } from "./backend.js"

export const TF_BACKEND_VARIABLE = "DRIFTGATE_TF_BACKEND"

const PREFERENCES: ReadonlyArray<TfBackendPreference> = ["auto", "node-gpu", "node", "wasm", "cpu"]

/**
 * Which tfjs backend trains and runs CNNs (see selectTfBackend). Unset or empty → "auto"; any other
 * value outside the list is an error naming the variable and the values it takes.
 */
export const tfBackendConfig: Config.Config<TfBackendPreference> = Config.string(TF_BACKEND_VARIABLE).pipe(
  Config.mapOrFail((raw) => {
    const value = raw.trim()
    if (value === "") return Either.right("auto" as const)
    const known = PREFERENCES.find((p) => p === value)
    return known !== undefined
      ? Either.right(known)
      : Either.left(
          ConfigError.InvalidData([], `must be one of ${PREFERENCES.join(", ")} (got ${JSON.stringify(raw)})`)
        )
  }),
  Config.withDefault("auto" as const)
)
