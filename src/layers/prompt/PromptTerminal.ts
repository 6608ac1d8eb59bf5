import { Effect, Layer } from "effect"
import * as readline from "node:readline/promises"
import { Presets, SingleBar } from "cli-progress"
import { Prompt } from "../../services/Prompt.js"

/** Asks on the controlling terminal (stdin/stderr, so --json output on stdout stays clean). */
export const makePromptTerminal = (interactive = Boolean(process.stdin.isTTY)) => {
  const question = (q: string) =>
    Effect.promise(async () => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
      try {
        return (await rl.question(q)).trim()
      } finally {
        rl.close()
      }
    })
  const ask = (
    q: string,
    options?: { readonly default?: string; readonly validate?: (a: string) => string | undefined }
  ): Effect.Effect<string> =>
    Effect.gen(function* () {
      for (;;) {
        const suffix = options?.default !== undefined ? ` [${options.default}]` : ""
        const raw = yield* question(`${q}${suffix}: `)
        const answer = raw === "" && options?.default !== undefined ? options.default : raw
        const problem = options?.validate?.(answer)
        if (problem === undefined) return answer
        process.stderr.write(`  ${problem}\n`)
      }
    })
  return Prompt.of({
    interactive,
    ask,
    choose: <A extends string>(q: string, choices: ReadonlyArray<A>) =>
      Effect.map(
        ask(`${q} (${choices.join(" / ")})`, {
          validate: (a) =>
            choices.some((c) => c === a || (c.startsWith(a) && a.length > 0))
              ? undefined
              : `answer one of: ${choices.join(", ")}`
        }),
        (a) => choices.find((c) => c === a) ?? choices.find((c) => c.startsWith(a))!
      ),
    say: (text) =>
      Effect.sync(() => {
        process.stderr.write(`${text}\n`)
      }),
    progress: (label, total) => {
      if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} }
      const bar = new SingleBar(
        {
          format: `${label} [{bar}] {value}/{total} {text}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false
        },
        Presets.shades_classic
      )
      bar.start(total, 0, { text: "" })
      return { update: (done, text) => bar.update(done, { text }), stop: () => bar.stop() }
    }
  })
}

export const PromptTerminal = Layer.sync(Prompt, () => makePromptTerminal())
