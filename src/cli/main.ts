import { Command, HelpDoc, Options } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Scheduler } from "effect"
import { DRIFTGATE_VERSION } from "../version.js"
import { dataCommand, dataSubcommands } from "./commands/data.js"
import { driftCommand, driftSubcommands } from "./commands/drift.js"
import { promoteCommand } from "./commands/promote.js"
import { registryCommand, registrySubcommands } from "./commands/registry.js"
import { rollbackCommand } from "./commands/rollback.js"
import { runCommand } from "./commands/run.js"
import { runsCommand, runsSubcommands } from "./commands/runs.js"
import { serveCommand } from "./commands/serve.js"
import { storeCommand, storeSubcommands } from "./commands/store.js"
import { uiCommand } from "./commands/ui.js"
import { consoleFor } from "./console.js"
import { failureMessage, recordSignals, teardown } from "./exit.js"
import { type CommandNode, helpTarget, subcommandHelp } from "./help.js"
import { driftgate, globalOptions, hoistSharedOptions } from "./root.js"

const commands: ReadonlyArray<CommandNode> = [
  { command: runCommand },
  { command: promoteCommand },
  { command: rollbackCommand },
  { command: registryCommand, children: registrySubcommands },
  { command: runsCommand, children: runsSubcommands },
  { command: driftCommand, children: driftSubcommands },
  { command: dataCommand, children: dataSubcommands },
  { command: serveCommand },
  { command: storeCommand, children: storeSubcommands },
  { command: uiCommand }
]

const app = driftgate.pipe(
  // every command's failure becomes one sentence here (with the cause under --verbose)
  Command.transformHandler((effect, root) =>
    Effect.tapErrorCause(effect, (cause) => {
      const message = failureMessage(cause, root.verbose)
      return message === null ? Effect.void : Console.error(message)
    })
  ),
  Command.withSubcommands([
    runCommand,
    promoteCommand,
    rollbackCommand,
    registryCommand,
    runsCommand,
    driftCommand,
    dataCommand,
    serveCommand,
    storeCommand,
    uiCommand
  ])
)

const program = { name: "driftgate", version: DRIFTGATE_VERSION }
const cli = Command.run(app, program)

const main = Effect.suspend(() => {
  const args = process.argv.slice(2)
  const help = helpTarget(commands, args)
  return help === null
    ? cli([...process.argv.slice(0, 2), ...hoistSharedOptions(args)])
    : Console.log(HelpDoc.toAnsiText(subcommandHelp(program, help, Options.all(globalOptions))))
}).pipe(Effect.provide(NodeContext.layer))

// Effect's default scheduler yields after 2048 operations and resumes on microtasks for up to 2048
// rounds before it lets the event loop turn: a `run` (synchronous SQLite and learners) would see
// SIGINT only once it had finished. Yielding every 64 operations, each round on setImmediate, lets
// Node deliver the signal between two rounds (serve keeps the default scheduler).
const signalResponsive = Scheduler.make((task) => {
  setImmediate(task)
})

// help and messages piped to a file or another program carry no ANSI escapes
const plainWhenPiped = Console.consoleWith((base) =>
  Effect.withConsole(
    main.pipe(Effect.withScheduler(signalResponsive), Effect.withMaxOpsBeforeYield(64)),
    consoleFor(base, Boolean(process.stdout.isTTY), Boolean(process.stderr.isTTY))
  )
)

// SIGINT/SIGTERM interrupt the fiber: every finalizer runs (the store is closed, the prediction log
// written) before the teardown maps the exit to driftgate's exit code.
recordSignals()
NodeRuntime.runMain(plainWhenPiped, { disableErrorReporting: true, disablePrettyLogger: true, teardown })
