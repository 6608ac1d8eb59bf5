import type { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { type ConfigError, Layer } from "effect"
import type { StoreError, StoreMissing } from "../domain/errors.js"
import type { Approver } from "../services/Approver.js"
import type { DriftDetector } from "../services/DriftDetector.js"
import type { ImageCodec } from "../services/ImageCodec.js"
import type { Prompt } from "../services/Prompt.js"
import type { Registry } from "../services/Registry.js"
import type { Storage } from "../services/Storage.js"
import type { Tracker } from "../services/Tracker.js"
import type { Trainer } from "../services/Trainer.js"
import * as path from "node:path"
import { ApproverHeadlessCancel } from "./approver/ApproverHeadlessCancel.js"
import { ApproverPolicy } from "./approver/ApproverPolicy.js"
import { ApproverTerminal } from "./approver/ApproverTerminal.js"
import { StorageFs } from "./storage/StorageFs.js"
import { SqliteDatabaseWorkspace } from "./sqlite/SqliteDatabase.js"
import { RegistrySqlite } from "./registry/RegistrySqlite.js"
import { TrackerSqlite } from "./tracker/TrackerSqlite.js"
import { PostgresDatabaseLive } from "./postgres/PostgresDatabase.js"
import { RegistryPostgres } from "./registry/RegistryPostgres.js"
import { TrackerPostgres } from "./tracker/TrackerPostgres.js"
import { StoragePostgres } from "./storage/StoragePostgres.js"
import { TrainerAll } from "./trainer/TrainerAll.js"
import { DriftDetectorTabular } from "./drift/DriftDetectorTabular.js"
import { ImageCodecSharp } from "./imageCodec/ImageCodecSharp.js"
import { PromptTerminal } from "./prompt/PromptTerminal.js"

export type ApproveMode = "interactive" | "auto" | "cancel"

/** interactive on a TTY, cancel otherwise (the headless default); auto only when asked for. */
export const approverLayer = (mode: ApproveMode | undefined, interactive: boolean) => {
  const m = mode ?? (interactive ? "interactive" : "cancel")
  return m === "auto"
    ? ApproverPolicy()
    : m === "interactive" && interactive
      ? ApproverTerminal
      : ApproverHeadlessCancel
}

/**
 * The production bundle for one workspace: SQLite store (WAL) at <workspace>/store.db, files under
 * <workspace> (a snapshot of the store when the workspace is read-only: DRIFTGATE_STORE_READONLY through
 * Effect's Config, or a read-only mount), the terminal prompt, and the approver chosen by --approve.
 * With `store` (a postgres:// URL) the registry, the tracker and the shared folders live in that
 * PostgreSQL store instead (docs/scaling.md). Built once per command.
 */
/** What a command gets from the live bundle (the database handle itself stays inside). */
export type LiveServices =
  Storage | Tracker | Registry | Trainer | DriftDetector | ImageCodec | Approver | Prompt | FileSystem.FileSystem

export const liveLayer = (options: {
  readonly workspace: string
  readonly approve?: ApproveMode | undefined
  /** Read-only commands: a missing store is an error (StoreMissing), never created. */
  readonly existing?: boolean
  /** A shared PostgreSQL store (postgres://…) instead of <workspace>/store.db. */
  readonly store?: string | undefined
  /** With a shared store: the directory holding the shared folders (default: in the store). */
  readonly artifacts?: string | undefined
}): Layer.Layer<LiveServices, StoreError | StoreMissing | ConfigError.ConfigError> => {
  const ws = path.resolve(options.workspace)
  const common = Layer.mergeAll(
    TrainerAll,
    DriftDetectorTabular,
    ImageCodecSharp,
    approverLayer(options.approve, Boolean(process.stdin.isTTY))
  ).pipe(Layer.provideMerge(Layer.merge(PromptTerminal, NodeFileSystem.layer)))
  if (options.store !== undefined) {
    // The shared store: registry, tracker and the shared folders in PostgreSQL (one pool); the
    // rest of the workspace (datasets, splits, staging, serving logs) stays local.
    const db = PostgresDatabaseLive(options.store)
    const storage = StoragePostgres(ws, options.artifacts === undefined ? undefined : path.resolve(options.artifacts))
    return Layer.mergeAll(TrackerPostgres, RegistryPostgres, storage, common).pipe(Layer.provide(db))
  }
  const db = SqliteDatabaseWorkspace(path.join(ws, "store.db"), { existing: options.existing === true })
  return Layer.mergeAll(Layer.mergeAll(TrackerSqlite, RegistrySqlite).pipe(Layer.provide(db)), StorageFs(ws), common)
}
