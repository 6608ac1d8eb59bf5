import { CliConfig, Command, HelpDoc, Options, Usage } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as Span from "@effect/cli/HelpDoc/Span"
import { HashSet, Option } from "effect"

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = Command.Command<any, any, any, any>

/** A command and, for a group (`drift`, `registry`, `runs`), its subcommands. */
export interface CommandNode {
  readonly command: AnyCommand
  readonly children?: ReadonlyArray<AnyCommand> | undefined
}

export const commandName = (c: AnyCommand): string => [...HashSet.values(Descriptor.getNames(c.descriptor))][0] ?? ""

/**
 * The commands named before `--help`/`-h` (`drift prepare-batch --help` → [drift, prepare-batch]);
 * null when no help is asked for or only the root's.
 */
export const helpTarget = (
  nodes: ReadonlyArray<CommandNode>,
  args: ReadonlyArray<string>
): ReadonlyArray<CommandNode> | null => {
  const at = args.findIndex((a) => a === "--help" || a === "-h")
  if (at < 0 || args.slice(0, at).includes("--")) return null
  const chain: CommandNode[] = []
  let level: ReadonlyArray<CommandNode> = nodes
  for (const arg of args.slice(0, at)) {
    const next = level.find((n) => commandName(n.command) === arg)
    if (next === undefined) continue
    chain.push(next)
    level = (next.children ?? []).map((command) => ({ command }))
  }
  return chain.length > 0 ? chain : null
}

/**
 * Help for a subcommand whose USAGE names the whole command path (`$ driftgate drift prepare-batch
 * --config file …`): @effect/cli 0.77 prints the subcommand's usage alone. The shared options are
 * listed after the command's own.
 */
export const subcommandHelp = (
  program: { readonly name: string; readonly version: string },
  chain: ReadonlyArray<CommandNode>,
  shared: Options.Options<unknown>
): HelpDoc.HelpDoc => {
  const node = chain[chain.length - 1]!
  const leaf = node.command
  // a group's own usage stops at its name: the subcommand comes next
  const own =
    node.children !== undefined
      ? Usage.concat(Command.getUsage(leaf), Usage.named(["<command>"], Option.none()))
      : Command.getUsage(leaf)
  const config = CliConfig.defaultConfig
  const usage = [program.name, ...chain.slice(0, -1).map((n) => commandName(n.command))].reduceRight(
    (rest, name) => Usage.concat(Usage.named([name], Option.none()), rest),
    Usage.concat(own, Options.getUsage(shared))
  )
  return HelpDoc.blocks([
    HelpDoc.h1(Span.code(program.name)),
    HelpDoc.p(`${program.name} ${program.version}`),
    HelpDoc.h1("USAGE"),
    ...Usage.enumerate(usage, config).map((span) => HelpDoc.p(Span.concat(Span.text("$ "), span))),
    Command.getHelp(leaf, config),
    HelpDoc.h1("SHARED OPTIONS"),
    Options.getHelp(shared)
  ])
}
