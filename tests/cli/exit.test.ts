import { ValidationError } from "@effect/cli"
import { HelpDoc, Options } from "@effect/cli"
import { driftCommand, driftSubcommands } from "../../src/cli/commands/drift.js"
import { runCommand } from "../../src/cli/commands/run.js"
import { type CommandNode, helpTarget, subcommandHelp } from "../../src/cli/help.js"
import { globalOptions } from "../../src/cli/root.js"
import { Cause, ConfigError, Exit, FiberId } from "effect"
import { describe, expect, it } from "vitest"
import { stripAnsi } from "../../src/cli/console.js"
import { exitCodeFor, failureMessage } from "../../src/cli/exit.js"
import {
  ApprovalCancelled,
  ConfigError as DriftgateConfigError,
  RunNotFound,
  UsageError
} from "../../src/domain/errors.js"

describe("exit codes", () => {
  const interrupted = Exit.failCause(Cause.interrupt(FiberId.none))
  it("maps each outcome to driftgate's documented code", () => {
    expect(exitCodeFor(Exit.void, false)).toBe(0)
    expect(exitCodeFor(Exit.fail(new RunNotFound({ runId: "x" })), false)).toBe(64)
    expect(exitCodeFor(Exit.fail(new UsageError({ message: "m" })), false)).toBe(64)
    expect(exitCodeFor(Exit.fail(new ApprovalCancelled({ model: "m", by: "policy", reason: "r" })), false)).toBe(3)
    expect(exitCodeFor(Exit.fail(ValidationError.invalidValue(HelpDoc.p("bad"))), false)).toBe(64)
    expect(exitCodeFor(Exit.fail(ConfigError.InvalidData(["X"], "bad")), false)).toBe(64)
    expect(exitCodeFor(Exit.die(new Error("bug")), false)).toBe(1)
  })
  it("an interruption is 130, unless the command ends on a signal by design (serve, listening)", () => {
    expect(exitCodeFor(interrupted, false)).toBe(130)
    expect(exitCodeFor(interrupted, true)).toBe(0)
  })
  it("one sentence per failure; the cause only under --verbose; nothing for usage errors and interruption", () => {
    const cause = Cause.fail(new DriftgateConfigError({ file: "c.yaml", message: "bad key" }))
    const quiet = failureMessage(cause, false)!
    expect(quiet.startsWith("driftgate: ")).toBe(true)
    expect(quiet.split("\n")).toHaveLength(1)
    expect(failureMessage(cause, true)!.split("\n").length).toBeGreaterThan(1)
    expect(failureMessage(Cause.fail(ValidationError.invalidValue(HelpDoc.p("x"))), false)).toBeNull()
    expect(failureMessage(Cause.interrupt(FiberId.none), false)).toBeNull()
    expect(failureMessage(Cause.die(new Error("bug")), false)).toBe(
      "driftgate: unexpected failure: bug (rerun with --verbose for details)"
    )
    expect(
      failureMessage(Cause.fail(ConfigError.InvalidData([], "DRIFTGATE_STORE_READONLY must be 1 or 0")), false)
    ).toBe("driftgate: invalid environment: DRIFTGATE_STORE_READONLY must be 1 or 0")
  })
})

describe("plain text on a pipe", () => {
  it("strips the escapes @effect/cli's help is coloured with", () => {
    const coloured = HelpDoc.toAnsiText(HelpDoc.h1("USAGE"))
    expect(coloured).toMatch(/\u001b\[/)
    expect(stripAnsi(coloured).trim()).toBe("USAGE")
  })
})

describe("help names the whole command path", () => {
  const nodes: ReadonlyArray<CommandNode> = [
    { command: runCommand },
    { command: driftCommand, children: driftSubcommands }
  ]
  const usageOf = (args: ReadonlyArray<string>) => {
    const chain = helpTarget(nodes, args)
    if (chain === null) return null
    const text = stripAnsi(
      HelpDoc.toAnsiText(subcommandHelp({ name: "driftgate", version: "t" }, chain, Options.all(globalOptions)))
    )
    return text.split("\n").find((l) => l.startsWith("$ "))
  }
  it("for a subcommand of a group, a group, and a top-level command", () => {
    expect(usageOf(["drift", "prepare-batch", "--help"])).toBe(
      "$ driftgate drift prepare-batch --config file --input-dir directory [--workspace directory] [--store url] [--json] [--verbose]"
    )
    expect(usageOf(["drift", "-h"])).toBe(
      "$ driftgate drift <command> [--workspace directory] [--store url] [--json] [--verbose]"
    )
    expect(usageOf(["run", "--help"])!.startsWith("$ driftgate run --config file")).toBe(true)
  })
  it("the root's own help is left to @effect/cli; no help asked, nothing to do", () => {
    expect(helpTarget(nodes, ["--help"])).toBeNull()
    expect(helpTarget(nodes, ["drift", "monitor", "--config", "c.yaml"])).toBeNull()
  })
})
