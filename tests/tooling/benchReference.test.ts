import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
// @ts-expect-error -- a plain .mjs module of the bench runner (no type declarations)
import { COMMITTED_REFERENCE, FRESH_REFERENCE, referencePlan } from "../../bench/referencePlan.mjs"

const root = path.resolve(__dirname, "../..")

/** bench/sklearn_reference.py's output path for these arguments (its main() is not run). */
const pythonOutput = (argv: ReadonlyArray<string>): string => {
  const r = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      "import sys, json; sys.path.insert(0, 'bench'); import sklearn_reference as s; print(s.output_path(json.loads(sys.argv[1])))",
      JSON.stringify(argv)
    ],
    { cwd: root, encoding: "utf8" }
  )
  if (r.status !== 0) throw new Error(r.stderr)
  return path.relative(root, r.stdout.trim())
}

describe("a bench run leaves the committed scikit-learn reference alone (issue #12 item 12)", () => {
  it("bench/run.mjs: fresh figures to bench/out/ and ml.ts compares with those; --update-reference is explicit", () => {
    expect(COMMITTED_REFERENCE).toBe("bench/sklearn_reference.json")
    expect(FRESH_REFERENCE.startsWith("bench/out/")).toBe(true)
    const plain = referencePlan(["ml"], true)
    expect(plain.python).not.toContain("--update-reference")
    expect(plain.reference).toBe(FRESH_REFERENCE)
    const update = referencePlan(["ml", "--update-reference"], true)
    expect(update.python).toContain("--update-reference")
    expect(update.reference).toBe(COMMITTED_REFERENCE)
    // Without a python peer nothing is written and the committed figures are read.
    expect(referencePlan(["ml"], false)).toEqual({ python: null, reference: COMMITTED_REFERENCE })
  })

  it("bench/sklearn_reference.py writes the committed file only with --update-reference", () => {
    expect(pythonOutput([])).toBe(FRESH_REFERENCE)
    expect(pythonOutput(["--update-reference"])).toBe(COMMITTED_REFERENCE)
  })
})
