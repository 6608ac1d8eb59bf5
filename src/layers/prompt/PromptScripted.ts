import { Effect, Layer } from "effect"
import { Prompt } from "../../services/Prompt.js"

/**
 * Answers questions from a script, in order, for tests. Running out of answers is a defect:
 * a test that asks more than it planned should fail loudly.
 */
export const makePromptScripted = (answers: ReadonlyArray<string>, interactive = true) => {
  const queue = [...answers]
  const asked: string[] = []
  const said: string[] = []
  const next = (q: string) =>
    Effect.suspend(() => {
      asked.push(q)
      const a = queue.shift()
      return a === undefined
        ? Effect.dieMessage(`PromptScripted: no scripted answer left for "${q}"`)
        : Effect.succeed(a)
    })
  const prompt = Prompt.of({
    interactive,
    ask: (q, options) =>
      Effect.flatMap(next(q), (a) => {
        const answer = a === "" && options?.default !== undefined ? options.default : a
        const problem = options?.validate?.(answer)
        return problem === undefined
          ? Effect.succeed(answer)
          : Effect.dieMessage(`PromptScripted: answer "${a}" to "${q}" rejected: ${problem}`)
      }),
    choose: <A extends string>(q: string, choices: ReadonlyArray<A>) =>
      Effect.flatMap(next(q), (a) =>
        choices.includes(a as A)
          ? Effect.succeed(a as A)
          : Effect.dieMessage(`PromptScripted: "${a}" is not one of ${choices.join(", ")}`)
      ),
    say: (text) =>
      Effect.sync(() => {
        said.push(text)
      }),
    progress: (label) => ({
      update: (done, text) => {
        said.push(`${label} ${done}: ${text}`)
      },
      stop: () => {}
    })
  })
  return { prompt, asked, said }
}

export const PromptScripted = (answers: ReadonlyArray<string>, interactive = true) =>
  Layer.sync(Prompt, () => makePromptScripted(answers, interactive).prompt)
