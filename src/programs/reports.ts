import { Effect } from "effect"
import type { Storage } from "../services/Storage.js"
import { reportKeys } from "./workspace.js"

/** Writes a report under reports/<run-id>/ and copies it to reports/latest/. */
export const writeReport = (storage: Storage["Type"], runId: string, name: string, value: unknown) =>
  Effect.gen(function* () {
    const text = JSON.stringify(value, null, 2) + "\n"
    const keys = reportKeys(runId)
    yield* storage.write(keys.file(name), text)
    yield* storage.write(keys.latest(name), text)
  })
