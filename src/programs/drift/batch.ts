import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import * as nodeFs from "node:fs"
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
  const abs = path.resolve(file)
  const cannotRead = (e: unknown) =>
    new UsageError({
      message: `cannot read the batch ${abs}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : e instanceof Error ? e.message : String(e)}`
    })
  const size = yield* Effect.try({
    try: () => {
      const st = nodeFs.statSync(abs)
      // a labelled batch is read twice (typed, then as text): a pipe cannot be; an unlabelled one streams once
      if (!st.isFile() && (options.labelled || st.isDirectory()))
        throw new Error(
          st.isDirectory() ? "a folder, not a CSV file" : "not a regular file (a labelled batch is read twice)"
        )
      nodeFs.accessSync(abs, nodeFs.constants.R_OK)
      return st.size
    },
    catch: cannotRead
  })
  const { max_rows: _drop, ...constraints } = spec.constraints
  const batchSpec = { ...spec, constraints: { ...constraints, min_rows: 1 } }
  // the same reader and contract as data preparation, hashing the chunks it reads
  const hash = createHash("sha256")
  // the file in 4 MiB pieces (never held whole: a batch can be as large as the training data); again for a second pass
  const chunks = function* () {
    const fd = nodeFs.openSync(abs, "r")
    try {
      const buf = new Uint8Array(1 << 22)
      for (let n; (n = nodeFs.readSync(fd, buf, 0, buf.length, null)) > 0;) yield buf.subarray(0, n)
    } finally {
      nodeFs.closeSync(fd)
    }
  }
  const rule = missingRule(spec)
  const read = yield* Effect.try({
    try: () => readCsvChunks(chunks, { ...readOptionsFor(spec, rule), sizeHint: size }, (chunk) => hash.update(chunk)),
    catch: cannotRead
  })
  const result = validateColumns(read, batchSpec, { requireTarget: options.labelled })
  if (result.violations.length > 0)
    return yield* Effect.fail(new ContractViolation({ dataset: spec.name, file: abs, violations: result.violations }))
  // the same reader again, every column as strings (the file already passed the structural checks above)
  const sha256 = hash.digest("hex")
  // hashed again: the rows split from the second pass must be the bytes the first one validated and hashed
  const again = createHash("sha256")
  const hashedChunks = function* () {
    for (const c of chunks()) {
      again.update(c)
      yield c
    }
  }
  const cells = options.labelled
    ? yield* Effect.try({
        try: () =>
          rereadPass(hashedChunks, { naValues: rule.tokens, naNumbers: rule.numbers, sizeHint: size }, read.header)
            .table,
        catch: cannotRead
      })
    : null
  if (cells !== null && again.digest("hex") !== sha256)
    return yield* Effect.fail(
      new UsageError({
        message: `the batch ${abs} changed while it was read; run the command again once it is written`
      })
    )
  return {
    file: abs,
    sha256,
    header: read.header,
    cells,
    frame: tableToFrame(result.table)
  } satisfies LoadedBatch
})
