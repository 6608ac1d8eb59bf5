import type { ColumnTable } from "../domain/columnTable.js"

/**
 * Decoded tables this process wrote or read, per store and storage location, so that a later stage of
 * the same run does not read back and decode the file an earlier stage has just written: the snapshot
 * (data preparation → preprocessing, which takes train, val and test rows out of it in turn) and the
 * preprocessed splits (preprocessing → training and evaluation).
 *
 * Sound because every key these tables live under is write-once and content-addressed (dataset version
 * and contract, split id, transform hash), and a table is only remembered when this process created the
 * file from it (or decoded it from the file): a file left by another build is always read. The snapshot
 * is kept until another one replaces it; a preprocessed split is handed over once and forgotten
 * (`takeTable`), and what a run did not take is dropped when it ends (`forgetHandOvers`), so nothing
 * outlives the run that made it but the last snapshot.
 */
const snapshots = new WeakMap<object, { readonly location: string; readonly table: ColumnTable }>()
const handOvers = new WeakMap<object, Map<string, ColumnTable>>()

/** `store`: the Storage service instance (in-memory stores share locations, so the store is part of the key). */
export const rememberSnapshot = (store: object, location: string, table: ColumnTable): void => {
  snapshots.set(store, { location, table })
}

export const cachedSnapshot = (store: object, location: string): ColumnTable | undefined => {
  const s = snapshots.get(store)
  return s?.location === location ? s.table : undefined
}

/** A table just written at `location`, for the next stage to take instead of reading the file. */
export const handOverTable = (store: object, location: string, table: ColumnTable): void => {
  let m = handOvers.get(store)
  if (m === undefined) handOvers.set(store, (m = new Map()))
  m.set(location, table)
}

/** The table handed over at `location`, once (undefined: read the file). */
export const takeTable = (store: object, location: string): ColumnTable | undefined => {
  const m = handOvers.get(store)
  const t = m?.get(location)
  m?.delete(location)
  return t
}

/** Drops the tables handed over and not taken (a run's end, whatever its stages or outcome). */
export const forgetHandOvers = (store: object): void => {
  handOvers.delete(store)
}
