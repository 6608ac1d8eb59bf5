import { describe, expect, it } from "vitest"
import { causeChain, describeError, exitCodeOf } from "../../src/domain/describe.js"
import {
  AlreadyStaged,
  DriftReferenceMissing,
  NoDeployedVersion,
  NotStaged,
  StoreError,
  TrainingError,
  UsageError,
  WorkspaceFileInvalid
} from "../../src/domain/errors.js"

describe("describeError", () => {
  const sqlite = Object.assign(new Error("database is locked"), { name: "SqliteError", code: "SQLITE_BUSY" })
  const wrapped = new Error("statement failed", { cause: sqlite })
  const store = new StoreError({ op: "registry.promote", message: "database is locked", cause: wrapped })

  it("is one sentence without --verbose, whatever the error wraps", () => {
    expect(describeError(store)).toBe("store registry.promote failed: database is locked")
  })

  it("with verbose, lists the causes below the sentence, outermost first, with error codes", () => {
    expect(describeError(store, { verbose: true }).split("\n")).toEqual([
      "store registry.promote failed: database is locked",
      "  caused by: Error: statement failed",
      "  caused by: SqliteError (SQLITE_BUSY): database is locked"
    ])
  })

  it("stops at a cycle in the cause chain and prints non-Error causes as JSON", () => {
    const a = new Error("a") as Error & { cause?: unknown }
    const b = new Error("b", { cause: a })
    a.cause = b
    expect(causeChain(new TrainingError({ model: "cnn", message: "x", cause: a }))).toEqual(["Error: a", "Error: b"])
    expect(causeChain(new TrainingError({ model: "cnn", message: "x", cause: { errno: 5 } }))).toEqual(['{"errno":5}'])
    expect(causeChain(new UsageError({ message: "x" }))).toEqual([])
  })

  it("keeps the sentences of the preconditions that used to be usage errors, with their exit codes", () => {
    const cases = [
      [
        new NoDeployedVersion({ model: "iris", stage: "Production", purpose: "to compare against" }),
        "model iris has no Production version to compare against",
        64
      ],
      [
        new AlreadyStaged({ dataset: "iris", id: "s1", batch: "/b.csv" }),
        "drift training s1 is already staged for iris (from /b.csv); run drift unstage-training first",
        64
      ],
      [new NotStaged({ dataset: "iris" }), "no drift training is staged for iris", 64],
      [
        new NotStaged({ dataset: "iris", asked: "s2", active: "s1" }),
        "the staged drift training of iris is s1, not s2",
        64
      ],
      [
        new DriftReferenceMissing({ model: "iris", version: 2, kind: "profile", key: "artifacts/r/p.json" }),
        "iris version 2 has no reference profile (artifacts/r/p.json); retrain it with this driftgate",
        1
      ],
      [
        new WorkspaceFileInvalid({ file: "/ws/x.json", what: "run context", message: "it is not JSON (oops)" }),
        "/ws/x.json is not a valid run context: it is not JSON (oops)",
        1
      ]
    ] as const
    for (const [e, sentence, code] of cases) {
      expect(describeError(e)).toBe(sentence)
      expect(exitCodeOf(e)).toBe(code)
    }
  })
})
