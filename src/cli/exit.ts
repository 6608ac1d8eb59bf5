import { ValidationError } from "@effect/cli"
import { Cause, ConfigError, Console, Effect, Exit, Option, Ref, Scheduler } from "effect"
import { describeError, type DriftgateError, exitCodeOf } from "../domain/describe.js"

/**
 * driftgate's documented exit codes: 0 done · 1 unexpected failure · 2 promotion blocked or drift
 * gate · 3 approval rejected or cancelled · 4 data validation failed · 64 bad usage or invalid
 * config · 130 interrupted (SIGINT/SIGTERM).
 */
export const EXIT_INTERRUPTED = 130

const isDriftgateError = (e: unknown): e is DriftgateError =>
  typeof e === "object" && e !== null && "_tag" in e && typeof (e as { _tag: unknown })._tag === "string"

/** The exit code of a finished command. `signalIsNormalStop`: the command (serve) ends on a signal by design. */
export const exitCodeFor = (exit: Exit.Exit<unknown, unknown>, signalIsNormalStop: boolean): number => {
  if (Exit.isSuccess(exit)) return 0
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const e = failure.value
    // @effect/cli has already printed what was wrong with the command line.
    if (ValidationError.isValidationError(e)) return 64
    if (ConfigError.isConfigError(e)) return 64
    if (isDriftgateError(e)) return exitCodeOf(e)
    return 1
  }
  if (Cause.isInterruptedOnly(exit.cause)) return signalIsNormalStop ? 0 : EXIT_INTERRUPTED
  return 1
}

/** The sentence printed for a failed command; null when there is nothing to add (usage errors, interruption). */
export const failureMessage = (cause: Cause.Cause<unknown>, verbose: boolean): string | null => {
  const detail = verbose ? `\n${Cause.pretty(cause)}` : ""
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const e = failure.value
    if (ValidationError.isValidationError(e)) return null
    if (ConfigError.isConfigError(e)) return `driftgate: invalid environment: ${configErrorText(e)}${detail}`
    if (isDriftgateError(e)) return `driftgate: ${describeError(e)}${detail}`
    return `driftgate: unexpected failure: ${String(e)}${detail}`
  }
  if (Cause.isInterruptedOnly(cause)) return null
  const defect = Cause.squash(cause)
  return `driftgate: unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}${verbose ? detail : " (rerun with --verbose for details)"}`
}

const configErrorText = (e: ConfigError.ConfigError): string =>
  ConfigError.reduceWithContext(e, undefined, {
    andCase: (_, l, r) => `${l}; ${r}`,
    orCase: (_, l, r) => `${l}; ${r}`,
    invalidDataCase: (_, path, message) => (path.length > 0 ? `${path.join(".")}: ${message}` : message),
    missingDataCase: (_, path, message) => (path.length > 0 ? `${path.join(".")}: ${message}` : message),
    sourceUnavailableCase: (_, path, message) => (path.length > 0 ? `${path.join(".")}: ${message}` : message),
    unsupportedCase: (_, path, message) => (path.length > 0 ? `${path.join(".")}: ${message}` : message)
  })

let signalEndsCommand = false
let lastSignal: NodeJS.Signals | null = null

/** Remembers which signal arrived (runMain interrupts on both without saying which). */
export const recordSignals = (): void => {
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.on(sig, () => {
      lastSignal = sig
    })
}

/**
 * Said by a command whose documented end is a signal (serve, once it listens): the interruption
 * that follows SIGTERM (how an orchestrator stops a service) is then a clean stop, exit 0. SIGINT
 * (Ctrl-C) stays an interruption, exit 130, as for every other command — after the same graceful
 * stop. runMain's teardown sees only the exit, so the command says it here.
 */
export const stopOnSignalIsNormal: Effect.Effect<void> = Effect.sync(() => {
  signalEndsCommand = true
})

/** NodeRuntime.runMain's teardown: the exit becomes driftgate's exit code; finalizers have all run by now. */
export const teardown = (exit: Exit.Exit<unknown, unknown>, onExit: (code: number) => void): void => {
  const code = exitCodeFor(exit, signalEndsCommand && lastSignal !== "SIGINT")
  if (code === EXIT_INTERRUPTED) process.stderr.write("driftgate: interrupted\n")
  onExit(code)
}

/**
 * A command that listens until a signal (serve, ui). `run` gets the effect to wait on once the server
 * listens: it marks SIGTERM as the normal end (above) and never completes, so runMain's interruption
 * stops the server through its scope. "<command>: stopped" is printed only when it had been listening
 * (a signal during start-up is an interruption like any other). Requests are served on Effect's default
 * scheduler (microtask rounds), as in the library, not the CLI's signal-responsive one.
 */
export const listenUntilSignal = <E, R>(
  command: string,
  run: (untilSignal: Effect.Effect<never>) => Effect.Effect<void, E, R>,
  onStopping: Effect.Effect<void> = Effect.void
): Effect.Effect<void, E, R> =>
  Effect.flatMap(Ref.make(false), (listening) =>
    run(
      Effect.zipRight(Effect.zipRight(Ref.set(listening, true), stopOnSignalIsNormal), Effect.never).pipe(
        Effect.onInterrupt(() => onStopping)
      )
    ).pipe(
      Effect.onInterrupt(() =>
        Effect.flatMap(Ref.get(listening), (l) => (l ? Console.error(`driftgate ${command}: stopped`) : Effect.void))
      ),
      Effect.withScheduler(Scheduler.defaultScheduler),
      Effect.withMaxOpsBeforeYield(2048)
    )
  )
