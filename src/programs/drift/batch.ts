import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import * as path from "node:path"
import { validateTable } from "../../domain/contract.js"
import type { PipelineConfig } from "../../domain/config.js"
import { type DatasetSpec, decodeDatasetSpec } from "../../domain/dataset.js"
import { ContractViolation, DatasetNotFound, UsageError } from "../../domain/errors.js"
import { sha256Hex } from "../../domain/hash.js"
import { type Frame, parseCsv, type RawTable } from "../../domain/table.js"
import { readYamlFile } from "../loadConfig.js"
import { datasetDir } from "../workspace.js"

/** The dataset.yaml of a config's dataset (the data contract batches are checked against). */
export const loadDatasetSpec = Effect.fn("data.loadSpec")(function* (config: PipelineConfig, configDir: string) {
  const fs = yield* FileSystem.FileSystem
  const file = path.join(datasetDir(config, configDir), "dataset.yaml")
  if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
    return yield* Effect.fail(
      new DatasetNotFound({
        dataset: config.dataset,
        path: file,
        message: "dataset.yaml is missing (run the pipeline once to create it)"
      })
    )
  }
  return yield* decodeDatasetSpec(yield* readYamlFile(file), file)
})

export interface LoadedBatch {
  readonly file: string
  readonly sha256: string
  readonly table: RawTable
  readonly frame: Frame
}

/**
 * Reads a CSV batch and checks it with the same contract as training data (dtypes, label set,
 * ranges, null fractions). The target is required only for labelled batches; row-count bounds
 * are the drift config's business (min_batch_size), not the training contract's.
 */
export const readBatch = Effect.fn("drift.readBatch")(function* (
  file: string,
  spec: DatasetSpec,
  options: { readonly labelled: boolean }
) {
  const fs = yield* FileSystem.FileSystem
  const abs = path.resolve(file)
  const bytes = yield* fs.readFile(abs).pipe(
    Effect.mapError(
      (e) =>
        new UsageError({
          message: `cannot read the batch ${abs}: ${e._tag === "SystemError" && e.reason === "NotFound" ? "no such file" : e.message}`
        })
    )
  )
  const parsed = parseCsv(new TextDecoder().decode(bytes))
  if (parsed._tag === "invalid")
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: abs, violations: parsed.violations }))
  const { max_rows: _drop, ...constraints } = spec.constraints
  const result = validateTable(
    parsed.table,
    { ...spec, constraints: { ...constraints, min_rows: 1 } },
    { requireTarget: options.labelled }
  )
  if (result.violations.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: abs, violations: result.violations }))
  return { file: abs, sha256: sha256Hex(bytes), table: parsed.table, frame: result.frame } satisfies LoadedBatch
})
