import { Options } from "@effect/cli"

/** Options several commands take (the shared --workspace/--json/--verbose live on the root command). */
export const configOption = Options.file("config").pipe(Options.withDescription("pipeline config (YAML)"))

export const approveOption = Options.choice("approve", ["interactive", "auto", "cancel"] as const).pipe(
  Options.withDescription(
    "approval gate: interactive (default on a TTY), cancel (default headless), auto (approve by policy)"
  ),
  Options.optional
)
