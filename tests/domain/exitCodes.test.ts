import { Either, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { exitCodeFor, failureMessage } from "../../src/cli/exit.js"
import { decodePipelineConfig } from "../../src/domain/config.js"
import { describeError, type DriftgateError, exitCodeOf } from "../../src/domain/describe.js"
import { ModelKind } from "../../src/domain/training.js"
import { Cause } from "effect"

describe("an exit code for everything (issue #12 item 8)", () => {
  // An error value with a tag outside the union (a new error class someone forgot to map, or a
  // tagged value from a library): it must not exit 0.
  const stranger = { _tag: "SomethingNobodyMapped", message: "boom" } as unknown as DriftgateError

  it("exitCodeOf maps an unknown tag to 1", () => {
    expect(exitCodeOf(stranger)).toBe(1)
  })

  it("the CLI's exit code and message for it are 1 and a sentence, not 0 and 'undefined'", () => {
    expect(exitCodeFor(Exit.fail(stranger), false)).toBe(1)
    const text = failureMessage(Cause.fail(stranger), false)!
    expect(text).not.toContain("undefined")
    expect(text).toContain("SomethingNobodyMapped")
    expect(describeError(stranger)).toContain("boom")
  })

  it("an unknown model kind is one sentence listing the known kinds", () => {
    const r = decodePipelineConfig(
      { name: "demo", task_type: "classification", dataset: "iris", training: { model: "xgboost" } },
      "demo.yaml"
    )
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r)) {
      expect(r.left.key).toBe("training.model")
      expect(r.left.message).toBe(`training.model: unknown model "xgboost" (known: ${ModelKind.literals.join(", ")})`)
      expect(exitCodeOf(r.left)).toBe(64)
    }
  })
})
