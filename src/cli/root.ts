import { Command, Options } from "@effect/cli"
import { Config } from "effect"

/**
 * The options every command shares, declared once on the root command. Subcommands read them by
 * yielding `driftgate`; users may still type them after the subcommand (`driftgate run --config F
 * --workspace W --json`): @effect/cli hands a subcommand's unknown options back to its parent.
 */
export const globalOptions = {
  workspace: Options.directory("workspace").pipe(
    Options.withDescription(
      "workspace folder (default: $DRIFTGATE_WORKSPACE, the config's workspace:, or ./.driftgate)"
    ),
    // an empty DRIFTGATE_WORKSPACE counts as unset, not as the current directory
    Options.withFallbackConfig(Config.nonEmptyString("DRIFTGATE_WORKSPACE")),
    Options.optional
  ),
  store: Options.text("store").pipe(
    Options.withPseudoName("url"),
    Options.withDescription(
      "a shared store, postgres://user@host:port/db (default: $DRIFTGATE_STORE_URL, the config's store:, or the workspace's store.db)"
    ),
    Options.withFallbackConfig(Config.nonEmptyString("DRIFTGATE_STORE_URL")),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print a machine-readable JSON result on stdout")),
  verbose: Options.boolean("verbose").pipe(Options.withDescription("print stack traces of unexpected failures"))
}

export const driftgate = Command.make("driftgate", globalOptions).pipe(
  Command.withDescription("local-first, drift-aware MLOps lifecycle for supervised learning")
)

const SHARED_WITH_VALUE = new Set(["--workspace", "--store"])
const SHARED_FLAGS = new Set(["--json", "--verbose"])

/**
 * Moves the shared options to the root, wherever they were typed (`runs show --workspace W ID`
 * as well as `driftgate --workspace W runs show ID`), so that only the root parses them: a
 * subcommand with a positional argument would otherwise read `--workspace` as that argument.
 * Nothing after `--` is touched.
 */
export const hoistSharedOptions = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const shared: string[] = []
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--") {
      rest.push(...args.slice(i))
      break
    }
    if (SHARED_FLAGS.has(a) || [...SHARED_WITH_VALUE].some((o) => a.startsWith(`${o}=`))) shared.push(a)
    else if (SHARED_WITH_VALUE.has(a) && i + 1 < args.length) shared.push(a, args[++i]!)
    else rest.push(a)
  }
  return [...shared, ...rest]
}
