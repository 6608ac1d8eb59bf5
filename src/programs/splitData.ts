import { Effect } from "effect"
import type { DatasetSpec } from "../domain/dataset.js"
import { ContractViolation } from "../domain/errors.js"
import { type Frame, parseCsv, toFrame } from "../domain/table.js"
import { Storage } from "../services/Storage.js"

/** Reads a CSV from the workspace as a typed frame of the given columns (dtypes from the spec). */
export const readFrame = Effect.fn("data.readFrame")(function* (
  key: string,
  spec: DatasetSpec,
  columns: ReadonlyArray<string>
) {
  const storage = yield* Storage
  const text = yield* storage.readText(key)
  const parsed = parseCsv(text)
  if (parsed._tag === "invalid") {
    return yield* Effect.fail(
      new ContractViolation({ dataset: spec.name, file: storage.locate(key), violations: parsed.violations })
    )
  }
  const { frame, violations } = toFrame(parsed.table, spec.schema, columns)
  const missing = columns.filter((c) => !parsed.table.header.includes(c))
  if (violations.length > 0 || missing.length > 0) {
    return yield* Effect.fail(
      new ContractViolation({
        dataset: spec.name,
        file: storage.locate(key),
        violations: [
          ...missing.map((c) => ({
            column: c,
            rule: "column_present",
            observed: "missing from the header",
            expected: `a column named "${c}"`,
            rows: [1]
          })),
          ...violations
        ]
      })
    )
  }
  return frame
})

/** Class labels in class-index order: the declared label_classes, else the sorted observed labels. */
export const classesOf = (spec: DatasetSpec, observed: ReadonlyArray<string>): ReadonlyArray<string> =>
  spec.constraints.label_classes !== undefined ? [...spec.constraints.label_classes] : [...new Set(observed)].sort()

/** The target column as float64: class indices for classification, values for regression. */
export const targetVector = (frame: Frame, target: string, classes: ReadonlyArray<string> | null): Float64Array => {
  const col = frame.columns.find((c) => c.name === target)!
  const n = frame.rows
  const y = new Float64Array(n)
  if (classes === null) {
    if (col.dtype === "float" || col.dtype === "int") y.set(col.values)
    return y
  }
  const index = new Map(classes.map((c, i) => [c, i]))
  for (let i = 0; i < n; i++) {
    const v: string | null | undefined =
      col.dtype === "float" || col.dtype === "int" ? String(col.values[i]) : (col.values[i] as string | null)
    y[i] = v === null || v === undefined ? NaN : (index.get(v) ?? NaN)
  }
  return y
}

export const featureFrame = (frame: Frame, features: ReadonlyArray<string>): Frame => ({
  rows: frame.rows,
  columns: features.map((f) => frame.columns.find((c) => c.name === f)!)
})
