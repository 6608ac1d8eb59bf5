import { Context, type Effect } from "effect"

/** The few interactive questions driftgate asks (dataset.yaml creation, rollback target, drift response). */
export class Prompt extends Context.Tag("driftgate/Prompt")<
  Prompt,
  {
    /** False when nobody can answer (no TTY): programs then fail with a message naming the flags instead. */
    readonly interactive: boolean
    readonly ask: (
      question: string,
      options?: { readonly default?: string; readonly validate?: (answer: string) => string | undefined }
    ) => Effect.Effect<string>
    readonly choose: <A extends string>(question: string, choices: ReadonlyArray<A>) => Effect.Effect<A>
    readonly say: (text: string) => Effect.Effect<void>
    /** A progress bar on a terminal (a no-op elsewhere): update(done, text), then stop(). */
    readonly progress: (
      label: string,
      total: number
    ) => { readonly update: (done: number, text: string) => void; readonly stop: () => void }
  }
>() {}
