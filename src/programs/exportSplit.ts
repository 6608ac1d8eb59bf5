import { Effect } from "effect"
import { encodeTable } from "../domain/arrowIpc.js"
import { type ColumnTable, tableToCsvChunks } from "../domain/columnTable.js"
import { UsageError } from "../domain/errors.js"
import { Storage } from "../services/Storage.js"
import { reportKeys } from "./workspace.js"
import { loadRunContext } from "./runContext.js"
import { readTable } from "./splitData.js"

export type ExportFormat = "csv" | "arrow"

export interface SplitExport {
  readonly runId: string
  readonly split: "train" | "val" | "test"
  readonly dataset: string
  readonly datasetVersion: string
  /** Where the split lives in the workspace (row indices over the snapshot). */
  readonly source: string
  readonly rows: number
  readonly columns: ReadonlyArray<string>
  readonly format: ExportFormat
  /** The file's bytes in pieces (CSV text of ~16k rows, or the Arrow writer's buffers), to write one after another. */
  readonly pieces: () => Iterable<string | Uint8Array>
}

/**
 * One split of a run as a standalone file: every column of the dataset snapshot, the rows of the
 * split in order (what a CSV split used to hold before splits became row indices over the Arrow
 * snapshot). CSV is written in pieces (RFC 4180, missing cells empty), so a million rows never
 * become one string; Arrow is the rows as their own Feather v2 file.
 */
export const exportSplit = Effect.fn("data.exportSplit")(function* (
  runId: string,
  split: "train" | "val" | "test",
  format: ExportFormat
) {
  const storage = yield* Storage
  const contextKey = reportKeys(runId).file("run_context.json")
  if (!(yield* storage.exists(contextKey))) {
    return yield* Effect.fail(
      new UsageError({
        message: `run ${runId} has no ${storage.locate(contextKey)} in this workspace (a run records its splits there once it has preprocessed its data)`
      })
    )
  }
  const { doc } = yield* loadRunContext(runId)
  const p = doc.prepared
  const info = p.splits[split]
  if (!info.key.endsWith(".arrow")) {
    return yield* Effect.fail(
      new UsageError({
        message: `run ${runId}'s ${split} split is ${storage.locate(info.key)}, not a table of rows (image runs list files): open it directly`
      })
    )
  }
  const table: ColumnTable = yield* readTable(info.key, p.spec, "all")
  return {
    runId,
    split,
    dataset: p.dataset,
    datasetVersion: p.version,
    source: storage.locate(info.key),
    rows: table.rows,
    columns: table.columns.map((c) => c.name),
    format,
    pieces: () =>
      format === "csv"
        ? tableToCsvChunks(table)
        : encodeTable(table, { dataset: p.dataset, dataset_version: p.version, run_id: runId, split })
  } satisfies SplitExport
})
