import { NodeFileSystem } from "@effect/platform-node"
import { Layer } from "effect"
import * as path from "node:path"
import { ApproverHeadlessCancel } from "./approver/ApproverHeadlessCancel.js"
import { ApproverPolicy } from "./approver/ApproverPolicy.js"
import { ApproverTerminal } from "./approver/ApproverTerminal.js"
import { StorageFs } from "./storage/StorageFs.js"
import { SqliteDatabaseWorkspace } from "./sqlite/SqliteDatabase.js"
import { RegistrySqlite } from "./registry/RegistrySqlite.js"
import { TrackerSqlite } from "./tracker/TrackerSqlite.js"
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
 * Built once per command.
 */
export const liveLayer = (options: {
  readonly workspace: string
  readonly approve?: ApproveMode | undefined
  /** Read-only commands: a missing store is an error (StoreMissing), never created. */
  readonly existing?: boolean
}) => {
  const ws = path.resolve(options.workspace)
  const store = path.join(ws, "store.db")
  const base = Layer.mergeAll(
    SqliteDatabaseWorkspace(store, { existing: options.existing === true }),
    StorageFs(ws),
    PromptTerminal,
    NodeFileSystem.layer
  )
  const services = Layer.mergeAll(
    TrackerSqlite,
    RegistrySqlite,
    TrainerAll,
    DriftDetectorTabular,
    ImageCodecSharp,
    approverLayer(options.approve, Boolean(process.stdin.isTTY))
  )
  return services.pipe(Layer.provideMerge(base))
}
