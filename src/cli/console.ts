import { type Console } from "effect"

// CSI sequences (colours, bold, cursor moves) as @effect/printer-ansi writes them.
// eslint-disable-next-line no-control-regex -- the ESC character is exactly what is matched
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g

/** Removes ANSI escape sequences from text. */
export const stripAnsi = (text: string): string => text.replace(ANSI, "")

const plain = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? stripAnsi(a) : a))

/**
 * A Console that writes plain text to the streams that are not terminals: help and messages piped
 * to a file or another program carry no escape codes.
 */
export const consoleFor = (base: Console.Console, stdoutIsTty: boolean, stderrIsTty: boolean): Console.Console => ({
  ...base,
  log: (...args) => (stdoutIsTty ? base.log(...args) : base.log(...plain(args))),
  info: (...args) => (stdoutIsTty ? base.info(...args) : base.info(...plain(args))),
  error: (...args) => (stderrIsTty ? base.error(...args) : base.error(...plain(args))),
  warn: (...args) => (stderrIsTty ? base.warn(...args) : base.warn(...plain(args)))
})
