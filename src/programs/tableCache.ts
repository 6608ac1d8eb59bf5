import type { ColumnTable } from "../domain/columnTable.js"

/**
 * Decoded tables this process wrote or read, by storage location, so that a later stage of the same run
 * does not read back and decode the file an earlier stage has just written: the snapshot (data
 * preparation → preprocessing, which takes train, val and test rows out of it in turn) and the
 * preprocessed splits (preprocessing → training and evaluation).
 *
 * Sound because every key these tables live under is write-once and content-addressed (dataset version
 * and contract, split id, transform hash): the bytes at a location never legitimately change. The
 * snapshot is kept until another one replaces it; a preprocessed split is handed over once and
 * forgotten (`take`), so a million-row training matrix is not held for the rest of the run.
 */
let snapshot: { readonly location: string; readonly table: ColumnTable } | undefined
const handOver = new Map<string, ColumnTable>()

export const rememberSnapshot = (location: string, table: ColumnTable): void => {
  snapshot = { location, table }
}

export const cachedSnapshot = (location: string): ColumnTable | undefined =>
  snapshot?.location === location ? snapshot.table : undefined

/** A table just written at `location`, for the next stage to take instead of reading the file. */
export const handOverTable = (location: string, table: ColumnTable): void => {
  handOver.set(location, table)
}

/** The table handed over at `location`, once (undefined: read the file). */
export const takeTable = (location: string): ColumnTable | undefined => {
  const t = handOver.get(location)
  handOver.delete(location)
  return t
}
