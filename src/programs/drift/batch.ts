import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import * as path from "node:path"
import { readOptionsFor, validateColumns } from "../../domain/contract.js"
import { readCsvChunks, rereadPass } from "../../domain/csvReader.js"
import { createHash } from "node:crypto"
import type { PipelineConfig } from "../../domain/config.js"
import { type DatasetSpec, decodeDatasetSpec } from "../../domain/dataset.js"
import { ContractViolation, DatasetNotFound, UsageError } from "../../domain/errors.js"
import type { Frame } from "../../domain/table.js"
import type { ColumnTable } from "../../domain/columnTable.js"
import { missingRule } from "../../domain/missing.js"
import { readYamlFile } from "../loadConfig.js"
import { tableToFrame } from "../splitData.js"
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
  readonly header: ReadonlyArray<string>
  /**
   * A labelled batch's every column as text (dictionary codes, -1 for a missing cell), read only for a
   * labelled batch: staging writes the rows it merges into a new dataset version with the batch's own text.
   */
  readonly cells: ColumnTable | null
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
  const { max_rows: _drop, ...constraints } = spec.constraints
  const batchSpec = { ...spec, constraints: { ...constraints, min_rows: 1 } }
  // the same reader and contract as data preparation, hashing the chunks it reads
  const hash = createHash("sha256")
  const chunks = function* () {
    const step = 1 << 22
    for (let o = 0; o < bytes.length; o += step) yield bytes.subarray(o, Math.min(bytes.length, o + step))
  }
  const rule = missingRule(spec)
  const read = readCsvChunks(chunks, { ...readOptionsFor(spec, rule), sizeHint: bytes.length }, (chunk) =>
    hash.update(chunk)
  )
  const result = validateColumns(read, batchSpec, { requireTarget: options.labelled })
  if (result.violations.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: abs, violations: result.violations }))
  // the same reader again, every column as strings (the file already passed the structural checks above)
  const cells = options.labelled
    ? rereadPass(chunks, { naValues: rule.tokens, naNumbers: rule.numbers, sizeHint: bytes.length }, read.header).table
    : null
  return {
    file: abs,
    sha256: hash.digest("hex"),
    header: read.header,
    cells,
    frame: tableToFrame(result.table)
  } satisfies LoadedBatch
})
